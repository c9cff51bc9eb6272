"""Which keys certainly have no stale-read anomaly: one vectorised sweep over all keys.

The graph checker's per-key work (checkers.graph.KeyGraph) builds clusters,
rows and explanations out of Python objects, which at a million ops costs
seconds even when every key is fine, as it almost always is. This module
clears keys in bulk instead, on the history's columns (checkers.columns): each
read is matched to its write there, then numpy sorts the writes into version
order and runs the same prefix-maximum sweep over all keys at once (a key's
offset keeps keys apart). A key it cannot clear, because something is unusual
(a repeated or non-string value, a missing or disputed version, a final phase,
a phantom or aborted read) or because the sweep finds a backward edge, goes to
KeyGraph, which finds and explains the anomalies. So this module may suspect a
key wrongly, never clear one wrongly.
"""

from __future__ import annotations

import numpy as np

from checkers.columns import ABSENT, FAIL, INFO, NO_VALUE, OK, READS, STRING, Columns, grouped
from checkers.history import FINAL_READ, WRITE_FUNCTIONS


def suspect_keys(columns: Columns, graph_ops: np.ndarray) -> set[int]:
    """The key ids, among those of the ``graph_ops`` rows (reads and writes),
    that need KeyGraph."""
    c = columns
    key, kind, value_kind = c.key, c.type, c.value_kind
    suspect = np.zeros(len(c.keys), dtype=bool)  # per key id

    def flag(rows: np.ndarray) -> None:
        suspect[key[rows]] = True

    flag(np.flatnonzero(graph_ops & c.of_functions([FINAL_READ])))
    is_write = graph_ops & c.of_functions(WRITE_FUNCTIONS)
    writes = np.flatnonzero(is_write)
    flag(writes[value_kind[writes] != STRING])
    suspect[c.ambiguous] = True
    flag(writes[(kind[writes] == OK) & ~c.has_version[writes]])
    reads = np.flatnonzero(graph_ops & c.of_functions(READS) & (kind == OK))
    strings = value_kind[reads] == STRING
    # a read of nothing is of the initial value, and then has no version
    initial = reads[~strings]
    flag(initial[(value_kind[initial] != NO_VALUE) | c.has_version[initial]])
    reads = reads[strings]
    source = c.source[reads]
    flag(reads[source < 0])  # a value no one wrote (or a hash that matched wrongly)
    reads, source = reads[source >= 0], source[source >= 0]
    flag(reads[kind[source] == FAIL])
    flag(reads[(kind[source] == INFO) & ~c.has_version[reads]])
    counter, writer = c.counter, c.writer
    differs = c.has_version[reads] & ((counter[reads] != counter[source])
                                      | (writer[reads] != writer[source]))
    flag(reads[(kind[source] == OK) & differs])
    # an info write has the version its reads saw: all the same one
    info = kind[source] == INFO
    by_write = np.argsort(source[info], kind="stable")
    seen, at = source[info][by_write], reads[info][by_write]
    same_write = seen[1:] == seen[:-1]
    disputed = same_write & ((counter[at][1:] != counter[at][:-1])
                             | (writer[at][1:] != writer[at][:-1]))
    flag(at[1:][disputed])
    if not c.versions_fit:
        suspect[key[writes]] = True  # counters past 64 bits: KeyGraph orders them
    # The graph's nodes on keys still clear: the writes with a version (ok, or
    # info and read), then the reads. An unread info or failed write may never
    # have happened: no node.
    clear = ~suspect
    version_of = np.where(kind == OK, np.arange(len(key)), -1)
    version_of[source[info]] = reads[info]  # an info write's version: its readers'
    node_writes = writes[clear[key[writes]] & (version_of[writes] >= 0)]
    reads_initial = initial[clear[key[initial]]]
    keep = clear[key[reads]]
    read_rows = np.concatenate([reads[keep], reads_initial])
    read_source = np.concatenate([source[keep], np.full(len(reads_initial), -1)])
    found = _swept(c, node_writes, version_of[node_writes], read_rows, read_source)
    return set(np.flatnonzero(suspect).tolist()) | found


def _swept(c: Columns, writes: np.ndarray, version_rows: np.ndarray, reads: np.ndarray,
           sources: np.ndarray) -> set[int]:
    """Key ids with a version collision, a future read or a backward real-time
    edge, found for all keys at once. ``writes`` are the write nodes' rows,
    ``version_rows`` the rows holding their versions; ``reads`` the read
    nodes' rows and ``sources`` the rows of the writes they saw (-1: initial)."""
    suspects: set[int] = set()
    key = c.key
    counters, writers = c.counter[version_rows], c.writer[version_rows]
    # version order per key, from 1 (0 is the initial value)
    order = np.lexsort((c.invoke_index[writes], writers, counters, key[writes]))
    ordered = writes[order]
    ordered_key = key[ordered]
    same = ((ordered_key[1:] == ordered_key[:-1])
            & (counters[order][1:] == counters[order][:-1])
            & (writers[order][1:] == writers[order][:-1]))
    suspects.update(ordered_key[1:][same].tolist())  # version collisions
    first = np.searchsorted(ordered_key, ordered_key, side="left")
    cluster_of = np.zeros(len(key), dtype=np.int64)
    cluster_of[ordered] = np.arange(len(ordered)) - first + 1
    read_cluster = np.where(sources >= 0, cluster_of[np.maximum(sources, 0)], 0)
    saw = sources >= 0
    future = c.complete_index[reads[saw]] < c.invoke_index[sources[saw]]
    suspects.update(key[reads[saw][future]].tolist())  # read done before its write began
    # The sweep: does some op of the key that completed before this one began
    # belong to a later cluster? Keys are kept apart by offsets larger than
    # any cluster, so a running maximum never carries one key into the next.
    nodes = np.concatenate([writes, reads])
    is_write = np.arange(len(nodes)) < len(writes)
    node_key = key[nodes]
    cluster = np.concatenate([cluster_of[writes], read_cluster])
    complete = np.where(c.type[nodes] == OK, c.complete_index[nodes], ABSENT)
    done = np.flatnonzero(complete != ABSENT)
    if not len(done):
        return suspects
    span = int(cluster.max()) + 2
    level = node_key * span + cluster
    done_at, starts = grouped((node_key[done], complete[done]), (node_key, c.invoke_index[nodes]))
    by_completion = np.argsort(done_at, kind="stable")
    done, done_at = done[by_completion], done_at[by_completion]
    # (queries in order: a sorted searchsorted walks memory in order, 3x faster)
    by_start = np.argsort(starts, kind="stable")
    before = np.empty_like(starts)
    before[by_start] = np.searchsorted(done_at, starts[by_start], side="left") - 1
    has_before = before >= 0
    for writes_only in (True, False):
        highest = np.maximum.accumulate(np.where(is_write[done] == writes_only, level[done], -1))
        backward = has_before & (highest[np.maximum(before, 0)] > level)
        suspects.update(node_key[backward].tolist())
    return suspects
