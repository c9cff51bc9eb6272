"""Stats: how many ops of each kind succeeded, failed or were uncertain, and how fast.

Never invalid by itself; it tells a reader whether a "valid" verdict rests on
enough successful ops (a run where every op timed out proves little).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from operator import attrgetter, itemgetter
from typing import Any

from checkers.history import History
from checkers.result import CheckResult

NAME = "stats"
QUANTILES = (0.5, 0.9, 0.99)


def check_stats(history: History) -> CheckResult:
    """Counts of ok/fail/info per f, and latency quantiles (ms) of completed ops per f."""
    # One C-level pass copies the four fields out of the (scattered) op
    # objects; the counting and the latencies then run over those copies.
    rows = list(map(attrgetter("f", "type", "invoke_time", "complete_time"), history.ops))
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for (f, kind), n in Counter(map(itemgetter(0, 1), rows)).items():
        counts[f][kind] = n
    latencies: dict[str, list[int]] = defaultdict(list)  # of ok and fail ops
    for f, kind, invoked, completed in rows:
        if completed is not None and kind != "info":
            latencies[f].append(completed - invoked)
    details: dict[str, Any] = {
        "ops": len(history.ops),
        "counts": {f: {t: c[t] for t in ("ok", "fail", "info")} for f, c in sorted(counts.items())},
        "latency_ms": {f: latency_summary(values) for f, values in sorted(latencies.items())},
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
