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

_READS = frozenset({"read", "get"})


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
    writes' versions. None when the key is unusual and needs KeyGraph.

    Each op is touched once, its fields copied into fresh lists: at a million
    ops, scattered op objects cost a cache miss per visit, so the later passes
    run over the copies.
    """
    writes: list[Op] = []
    reads: list[Op] = []
    for op in ops:
        f = op.f
        if f in WRITE_FUNCTIONS:
            writes.append(op)
        elif f == FINAL_READ:
            return None
        elif op.type == "ok":
            reads.append(op)
    w_value = [w.value for w in writes]
    w_type = [w.type for w in writes]
    w_version = [w.version for w in writes]
    w_invoke = [w.invoke_index for w in writes]
    w_complete = [w.complete_index for w in writes]
    r_value = [r.value for r in reads]
    r_version = [r.version for r in reads]
    r_invoke = [r.invoke_index for r in reads]
    r_complete = [r.complete_index for r in reads]
    by_value = {value: n for n, value in enumerate(w_value)}
    if len(by_value) < len(writes) or not all(type(value) is str for value in w_value):
        return None
    version_of = [v if t == "ok" else None for v, t in zip(w_version, w_type, strict=True)]
    if any(v is None and t == "ok" for v, t in zip(w_version, w_type, strict=True)):
        return None
    sources = list(map(by_value.get, r_value))
    for value, version, n in zip(r_value, r_version, sources, strict=True):
        if n is None:  # the initial value, or a value nobody wrote
            if value is not None or version is not None:
                return None
        elif w_type[n] != "ok":
            if w_type[n] == "fail" or version is None:  # aborted, or unordered
                return None
            if version_of[n] is None:
                version_of[n] = version
            elif version_of[n] != version:
                return None
        elif version is not None and version != version_of[n]:
            return None
    # an unread info or failed write may never have happened: no node
    nodes = [n for n, version in enumerate(version_of) if version is not None]
    node_of = {n: offset + position for position, n in enumerate(nodes)}
    return (
        [key_id] * (len(nodes) + len(reads)),
        [-1] * len(nodes) + [-1 if n is None else node_of[n] for n in sources],
        [True] * len(nodes) + [False] * len(reads),
        [w_invoke[n] for n in nodes] + r_invoke,
        [w_complete[n] if w_type[n] == "ok" else -1 for n in nodes] + r_complete,
        [version_of[n] for n in nodes],
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
