"""What a run's history says about availability and speed, for the report and the terminal.

The stats checker counts outcomes and latencies per op; this adds what needs
the fault windows (which only the harness knows how to read from nemesis
events): the share of ops that succeeded inside each window and outside every
window. Availability is the ok share of the client ops *invoked* in a window,
since an op's fate is decided by the state of the cluster when it was sent.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from checkers.history import History, Op
from checkers.stats import check_stats
from harness.fault_log import AppliedFault, applied_faults, merged_spans, run_end


@dataclass(frozen=True)
class Availability:
    """How many client ops were invoked in a span of time, and how many were ok."""

    ops: int
    ok: int

    @property
    def share(self) -> float | None:
        return self.ok / self.ops if self.ops else None


@dataclass
class RunStats:
    """Counts, latencies, throughput and availability of one history."""

    counts: dict[str, dict[str, int]]  # f -> ok/fail/info
    latency_ms: dict[str, dict[str, float]]  # f -> p50/p90/p99/max (ok and fail ops)
    duration_s: float
    ok_per_s: float
    overall: Availability
    outside_faults: Availability
    faults: list[AppliedFault] = field(default_factory=list)
    in_fault: list[Availability] = field(default_factory=list)  # one per fault, same order

    @property
    def inside_faults(self) -> Availability:
        """Every op invoked while at least one fault was active."""
        return Availability(self.overall.ops - self.outside_faults.ops,
                            self.overall.ok - self.outside_faults.ok)

    def to_dict(self) -> dict[str, Any]:
        def share(a: Availability) -> dict[str, Any]:
            return {"ops": a.ops, "ok": a.ok, "ok_share": a.share}

        return {"counts": self.counts, "latency_ms": self.latency_ms,
                "duration_s": self.duration_s, "ok_per_s": self.ok_per_s,
                "availability": {"overall": share(self.overall),
                                 "outside_faults": share(self.outside_faults),
                                 "inside_faults": share(self.inside_faults)}}


def client_ops(history: History) -> list[Op]:
    """The workload's own ops: the nemesis and the final phase are not clients."""
    return [op for op in history.ops if isinstance(op.process, int)]


def run_stats(history: History) -> RunStats:
    """Measure ``history`` (a run's or an imported one)."""
    ops = client_ops(history)
    details = check_stats(History(events=[], ops=ops)).details
    duration = run_end(history.events) if history.events else 0.0
    faults = applied_faults(history.events, duration)
    counter = _InvokedCounter(ops)
    in_fault = [counter.between(fault.start, fault.stop) for fault in faults]
    inside = [counter.between(start, stop)
              for start, stop in merged_spans((f.start, f.stop) for f in faults)]
    overall = counter.between(float("-inf"), float("inf"))
    outside = Availability(overall.ops - sum(a.ops for a in inside),
                           overall.ok - sum(a.ok for a in inside))
    return RunStats(counts=details["counts"], latency_ms=details["latency_ms"],
                    duration_s=duration,
                    ok_per_s=overall.ok / duration if duration > 0 else 0.0,
                    overall=overall, outside_faults=outside, faults=faults, in_fault=in_fault)


class _InvokedCounter:
    """Ops and ok ops invoked in any closed span of seconds, by bisection (a
    million ops and a hundred faults stay fast)."""

    def __init__(self, ops: list[Op]) -> None:
        ordered = sorted(ops, key=lambda op: op.invoke_time)
        self.times = [op.invoke_time / 1e9 for op in ordered]
        self.ok_before = [0, *accumulate(op.type == "ok" for op in ordered)]

    def between(self, start: float, stop: float) -> Availability:
        low, high = bisect_left(self.times, start), bisect_right(self.times, stop)
        return Availability(high - low, self.ok_before[high] - self.ok_before[low])
