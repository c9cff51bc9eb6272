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

from checkers.history import Op, freeze


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
