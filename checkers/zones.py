"""A fast exact decision for read/write registers whose written values are unique.

When every write writes a different value (the harness's "<process>-<seq>"),
each read names the one write it saw, and linearizability is decided in
O(n log n) by Gibbons and Korach's zones (Testing shared memories, 1997). A
*cluster* is a write with the reads that returned its value; its ops must be
linearized with the register holding that value from the write to the last
read. Let f be the earliest completion and s the latest invocation in the
cluster. If f < s the value must be held across all of [f, s] (a *forward*
zone); otherwise the whole cluster fits at one instant of [s, f] (a
*backward* zone). The history is linearizable iff no read returns a value no
write wrote, no read completes before its write is invoked, no two forward
zones overlap, and no backward zone lies strictly inside a forward zone.

This lets a single key with many concurrent writers, where the general search
multiplies orders of blind writes, be decided at once. It applies only when
the key's ops are reads and writes with unique values; info writes count with
no completion (unread ones are already left out by the model).
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from checkers.history import Op, freeze

if TYPE_CHECKING:
    import numpy as np

    from checkers.columns import Columns


@dataclass
class Verdict:
    """The zones' answer for one key; ``reason`` explains a violation in words."""

    valid: bool
    reason: str = ""
    ops: list[int] = field(default_factory=list)  # invoke indexes involved


@dataclass(slots=True)
class _Cluster:
    value: Hashable
    write: Op | None  # None: the initial value
    first_done: float = math.inf  # f: the earliest completion in the cluster
    first_op: Op | None = None
    last_start: float = -math.inf  # s: the latest invocation in the cluster
    last_op: Op | None = None

    def add(self, op: Op) -> None:
        done = math.inf if op.complete_time is None else op.complete_time
        if done < self.first_done:
            self.first_done, self.first_op = done, op
        if op.invoke_time > self.last_start:
            self.last_start, self.last_op = op.invoke_time, op


def decide(ops: list[Op], initial: Hashable) -> Verdict | None:
    """Decide a key's ops by zones, or None when they are not reads and writes
    of unique values (the general search must decide then)."""
    clusters: dict[Hashable, _Cluster] = {initial: _Cluster(initial, None, -math.inf)}
    reads: list[tuple[Hashable, Op]] = []
    for op in ops:
        value = op.value
        if type(value) is not str:
            value = freeze(value)
        f = op.f
        if f == "write":
            if value in clusters:
                return None
            done = op.complete_time
            clusters[value] = _Cluster(value, op, math.inf if done is None else done, op,
                                       op.invoke_time, op)
        elif f == "read" and op.type == "ok":
            reads.append((value, op))
        else:
            return None
    for value, read in reads:
        cluster = clusters.get(value)
        if cluster is None:
            return Verdict(False, f"{_name(read)} returned {value!r}, which is not the initial "
                                  "value and no write that may have taken effect wrote",
                           [read.invoke_index])
        done = read.complete_time
        if cluster.write is not None and done < cluster.write.invoke_time:
            return Verdict(False, f"{_name(read)} returned {value!r} but completed before "
                                  f"{_name(cluster.write)} of that value was invoked",
                           [read.invoke_index, cluster.write.invoke_index])
        if done < cluster.first_done:  # _Cluster.add, inlined: once per read
            cluster.first_done, cluster.first_op = done, read
        if read.invoke_time > cluster.last_start:
            cluster.last_start, cluster.last_op = read.invoke_time, read
    return _zones(list(clusters.values()))


def _zones(clusters: list[_Cluster]) -> Verdict:
    forward = sorted((c for c in clusters if c.first_done < c.last_start),
                     key=lambda c: c.first_done)
    for earlier, later in itertools.pairwise(forward):
        if later.first_done < earlier.last_start:
            return _overlap(earlier, later)
    starts = [c.first_done for c in forward]
    for cluster in clusters:
        if cluster.first_done < cluster.last_start:
            continue
        # the forward zone starting last before this backward zone starts
        position = bisect.bisect_left(starts, cluster.last_start) - 1
        if position >= 0 and cluster.first_done < forward[position].last_start:
            return _inside(cluster, forward[position])
    return Verdict(True)


def _name(op: Op | None) -> str:
    if op is None:
        return "the initial state"
    return f"{op.f} #{op.invoke_index} (process {op.process})"


def _held(cluster: _Cluster) -> str:
    return (f"{cluster.value!r} must be held from when {_name(cluster.first_op)} completed "
            f"(t={cluster.first_done}) until {_name(cluster.last_op)} was invoked "
            f"(t={cluster.last_start})")


def _involved(*clusters: _Cluster) -> list[int]:
    ops = {op.invoke_index for c in clusters for op in (c.write, c.first_op, c.last_op)
           if op is not None}
    return sorted(ops)


def _overlap(a: _Cluster, b: _Cluster) -> Verdict:
    return Verdict(False, f"two values would have to be held at once: {_held(a)}, and "
                          f"{_held(b)}", _involved(a, b))


def _inside(inner: _Cluster, outer: _Cluster) -> Verdict:
    return Verdict(
        False,
        f"{_name(inner.write)} of {inner.value!r}, and any read of it, must take effect "
        f"between t={inner.last_start} and t={inner.first_done}, but then {_held(outer)}",
        _involved(inner, outer),
    )


def bulk_cleared(columns: Columns, initial: Hashable, client_ops: np.ndarray) -> dict[int, int]:
    """The keys the zones find linearizable, decided for all keys at once on the
    history's columns: key id -> how many ops the check keeps for it.

    ``client_ops`` masks the ops a key's check sees (failed ops and final-phase
    reads are not). The same decision as :func:`decide` on the ops
    ``RegisterModel.prepare`` keeps, for keys of reads and writes of string
    values with ``initial`` None or a string; a key it does not clear (one that
    is not such a key, or is not linearizable) goes to :func:`decide` and the
    search, which decide it again and explain it. A failed read-to-write
    match (checkers.columns) only keeps a key from being cleared.
    """
    import numpy as np  # only for histories with columns (see History.columns)

    from checkers.columns import LIMIT, OK, OTHER, STRING, UNKNOWN, grouped

    c = columns
    key, kind, value_kind = c.key, c.type, c.value_kind
    bad = np.zeros(len(c.keys), dtype=bool)
    bad[key[client_ops & ~c.of_functions(["read", "write"])]] = True  # a cas, or not a register
    bad[c.ambiguous] = True
    is_write = client_ops & c.of_functions(["write"])
    writes = np.flatnonzero(is_write)
    bad[key[writes[value_kind[writes] != STRING]]] = True
    bad[key[writes[_holding(c, writes, initial)]]] = True  # the initial value written again
    reads = np.flatnonzero(client_ops & c.of_functions(["read"]) & (kind == OK))
    bad[key[reads[value_kind[reads] == OTHER]]] = True
    reads = reads[value_kind[reads] != UNKNOWN]  # tells nothing: left out, as prepare does
    of_initial = _holding(c, reads, initial)
    source = np.maximum(c.source[reads], 0)  # the write each read saw (valid where `saw`)
    saw = ~of_initial & (c.source[reads] >= 0) & is_write[source]  # (not failed: not client)
    bad[key[reads[~of_initial & ~saw]]] = True  # a value no write that may have happened wrote
    bad[key[reads[saw & (c.complete_time[reads] < c.invoke_time[source])]]] = True
    # The writes the check keeps: ok ones, and info ones some read returned.
    observed = np.zeros(len(key), dtype=bool)
    observed[source[saw]] = True
    writes = writes[(kind[writes] == OK) | observed[writes]]
    reads, source, of_initial = reads[saw | of_initial], source[saw | of_initial], of_initial[
        saw | of_initial]
    # Clusters: the kept writes, then each key's initial value.
    n = len(writes)
    cluster_key = np.concatenate([key[writes], np.arange(len(c.keys))])
    # -1 and LIMIT stand for -inf and +inf: every op's time lies between.
    done = np.concatenate([np.where(kind[writes] == OK, c.complete_time[writes], LIMIT),
                           np.full(len(c.keys), -1)])
    start = np.concatenate([c.invoke_time[writes], np.full(len(c.keys), -1)])
    position = np.zeros(len(key), dtype=np.int64)
    position[writes] = np.arange(n)
    cluster = np.where(of_initial, n + key[reads], position[source])
    np.minimum.at(done, cluster, c.complete_time[reads])
    np.maximum.at(start, cluster, c.invoke_time[reads])
    # No two forward zones overlap ...
    forward = np.flatnonzero(done < start)
    forward = forward[np.lexsort((done[forward], cluster_key[forward]))]
    same_key = cluster_key[forward][1:] == cluster_key[forward][:-1]
    overlap = same_key & (done[forward][1:] < start[forward][:-1])
    bad[cluster_key[forward][1:][overlap]] = True
    # ... and no backward zone lies inside the forward zone starting last before it.
    backward = np.flatnonzero(done >= start)
    if not len(forward):
        backward = backward[:0]
    starts, queries = grouped((cluster_key[forward], done[forward]),
                              (cluster_key[backward], start[backward]))
    before = np.searchsorted(starts, queries, side="left") - 1
    has = before >= 0
    outer = forward[np.maximum(before, 0)]
    inside = has & (cluster_key[outer] == cluster_key[backward]) & (done[backward] < start[outer])
    bad[cluster_key[backward][inside]] = True
    kept = np.bincount(key[reads], minlength=len(c.keys)) + np.bincount(
        key[writes], minlength=len(c.keys))
    present = np.bincount(key[client_ops], minlength=len(c.keys)) > 0
    return {int(k): int(kept[k]) for k in np.flatnonzero(present & ~bad)}


def _holding(c: Columns, rows: np.ndarray, value: Hashable) -> np.ndarray:
    """Which of ``rows`` have ``value`` (None or a string)."""
    import numpy as np

    from checkers.columns import NO_VALUE, STRING

    if value is None:
        return c.value_kind[rows] == NO_VALUE
    maybe = rows[(c.value_kind[rows] == STRING) & (c.value_hash[rows] == hash(value))]
    return np.isin(rows, [r for r in maybe.tolist() if c.values[r] == value])
