"""Stats: how many ops of each kind succeeded, failed or were uncertain, and how fast.

Never invalid by itself; it tells a reader whether a "valid" verdict rests on
enough successful ops (a run where every op timed out proves little).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from operator import attrgetter
from typing import Any

from checkers.history import History
from checkers.result import CheckResult

NAME = "stats"
QUANTILES = (0.5, 0.9, 0.99)


def check_stats(history: History) -> CheckResult:
    """Counts of ok/fail/info per f, and latency quantiles (ms) of completed ops per f."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for (f, kind), n in Counter(map(attrgetter("f", "type"), history.ops)).items():
        counts[f][kind] = n
    latencies = {  # of ok and fail ops: one comprehension per function, in C
        f: [op.complete_time - op.invoke_time for op in history.ops
            if op.f == f and op.complete_time is not None and op.type != "info"]
        for f in counts
    }
    details: dict[str, Any] = {
        "ops": len(history.ops),
        "counts": {f: {t: c[t] for t in ("ok", "fail", "info")} for f, c in sorted(counts.items())},
        "latency_ms": {f: latency_summary(values) for f, values in sorted(latencies.items())
                       if values},
    }
    return CheckResult(checker=NAME, valid=True, details=details)


def latency_summary(nanoseconds: list[int]) -> dict[str, float]:
    """Nearest-rank quantiles and the maximum, in milliseconds."""
    ordered = sorted(nanoseconds)
    summary = {
        f"p{round(q * 100)}": ordered[max(0, math.ceil(q * len(ordered)) - 1)] / 1e6
        for q in QUANTILES
    }
    summary["max"] = ordered[-1] / 1e6
    return summary
