"""Which keys certainly have no stale-read anomaly: one vectorised sweep over all keys.

The graph checker's per-key work (checkers.graph.KeyGraph) builds clusters,
rows and explanations out of Python objects, which at a million ops costs
seconds even when every key is fine, as it almost always is. This module
clears keys in bulk instead: one Python pass matches each read to its write,
then numpy sorts the writes into version order and runs the same prefix-maximum
sweep over all keys at once (a key's offset keeps keys apart). A key it cannot
clear, because something is unusual (a repeated or non-string value, a missing
or disputed version, a final phase, a phantom or aborted read) or because the
sweep finds a backward edge, goes to KeyGraph, which finds and explains the
anomalies. So this module may suspect a key wrongly, never clear one wrongly.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np

from checkers.history import FINAL_READ, WRITE_FUNCTIONS, Op


def suspect_keys(by_key: dict[Hashable, list[Op]]) -> set[Hashable]:
    """The keys of ``by_key`` (key -> its reads and writes) that need KeyGraph."""
    suspects: set[Hashable] = set()
    columns: list[list[Any]] = [[], [], [], [], []]  # key, target, is_write, invoke, complete
    versions: list[tuple[int, str]] = []  # of the write nodes, in node order
    keys = list(by_key)
    for key_id, key in enumerate(keys):
        placed = _place(by_key[key], key_id, len(columns[0]))
        if placed is None:
            suspects.add(key)
            continue
        for column, values in zip(columns, placed[:5], strict=True):
            column.extend(values)
        versions.extend(placed[5])
    if columns[0]:
        key, target, is_write, invoke, complete = (np.array(c) for c in columns)
        suspects.update(keys[k] for k in _swept(key, target, is_write, invoke, complete,
                                                versions))
    return suspects


def _place(ops: list[Op], key_id: int, offset: int) -> tuple[list[Any], ...] | None:
    """One key's graph nodes as columns (key, target: the node of the write a
    read saw or -1 for the initial value, is_write, invoke and completion index:
    -1 unless ok), writes first and node positions from ``offset``; and the
    writes' versions. None when the key is unusual and needs KeyGraph."""
    writes: dict[str, Op] = {}
    reads: list[Op] = []
    for op in ops:
        if op.f in WRITE_FUNCTIONS:
            value = op.value
            if type(value) is not str or value in writes:
                return None
            writes[value] = op
        elif op.f == FINAL_READ:
            return None
        elif op.type == "ok":
            reads.append(op)
    version_of: dict[int, tuple[int, str]] = {}  # write invoke index -> version
    for write in writes.values():
        if write.type == "ok":
            if write.version is None:
                return None
            version_of[write.invoke_index] = write.version
    sources: list[Op | None] = []
    observed: set[int] = set()  # invoke indexes of the writes some read saw
    for read in reads:
        value, version = read.value, read.version
        if value is None:
            if version is not None:
                return None
            sources.append(None)
            continue
        write = writes.get(value) if type(value) is str else None
        if write is None or write.type == "fail":
            return None
        known = version_of.get(write.invoke_index)
        if version is not None:
            if known is None:
                version_of[write.invoke_index] = version
            elif known != version:
                return None
        sources.append(write)
        observed.add(write.invoke_index)
    nodes = [w for w in writes.values() if w.invoke_index in version_of]
    if any(w.invoke_index in observed and w.invoke_index not in version_of
           for w in writes.values() if w.type == "info"):
        return None  # read, yet no version to order it by
    # an unread info or failed write may never have happened: no node
    node_of = {w.invoke_index: offset + n for n, w in enumerate(nodes)}
    return (
        [key_id] * (len(nodes) + len(reads)),
        [-1] * len(nodes) + [-1 if w is None else node_of[w.invoke_index] for w in sources],
        [True] * len(nodes) + [False] * len(reads),
        [w.invoke_index for w in nodes] + [r.invoke_index for r in reads],
        [w.complete_index if w.type == "ok" else -1 for w in nodes]
        + [r.complete_index for r in reads],
        [version_of[w.invoke_index] for w in nodes],
    )


def _swept(key: np.ndarray, target: np.ndarray, is_write: np.ndarray, invoke: np.ndarray,
           complete: np.ndarray, versions: list[tuple[int, str]]) -> set[int]:
    """Key ids with a version collision, a future read or a backward real-time
    edge, found for all keys at once (``versions``: the write nodes', in order)."""
    suspects: set[int] = set()
    writes = np.flatnonzero(is_write)
    cluster = np.zeros(len(key), dtype=np.int64)
    if len(writes):
        counters = np.array([version[0] for version in versions], dtype=np.int64)
        names = [version[1] for version in versions]
        rank = {name: r for r, name in enumerate(sorted(set(names)))}
        writers = np.array([rank[name] for name in names], dtype=np.int64)
        order = np.lexsort((invoke[writes], writers, counters, key[writes]))
        ordered = writes[order]
        same = ((key[ordered][1:] == key[ordered][:-1])
                & (counters[order][1:] == counters[order][:-1])
                & (writers[order][1:] == writers[order][:-1]))
        suspects.update(key[ordered][1:][same].tolist())  # version collisions
        first = np.searchsorted(key[ordered], key[ordered], side="left")
        cluster[ordered] = np.arange(len(ordered)) - first + 1  # version order per key, from 1
    reads = np.flatnonzero(~is_write & (target >= 0))
    cluster[reads] = cluster[target[reads]]
    future = complete[reads] < invoke[target[reads]]  # read done before its write began
    suspects.update(key[reads][future].tolist())
    # The sweep: does some op of the key that completed before this one began
    # belong to a later cluster? Keys are kept apart by offsets larger than
    # any cluster, so a running maximum never carries one key into the next.
    span = int(cluster.max()) + 2
    stride = int(max(invoke.max(), complete.max())) + 1
    level = key * span + cluster
    done = np.flatnonzero(complete >= 0)
    done = done[np.argsort(key[done] * stride + complete[done], kind="stable")]
    done_at = key[done] * stride + complete[done]
    before = np.searchsorted(done_at, key * stride + invoke, side="left") - 1
    seen = before >= 0
    for kind in (True, False):
        highest = np.maximum.accumulate(np.where(is_write[done] == kind, level[done], -1))
        backward = seen & (highest[np.maximum(before, 0)] > level)
        suspects.update(key[backward].tolist())
    return suspects
