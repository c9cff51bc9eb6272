"""Stats: how many ops of each kind succeeded, failed or were uncertain, and how fast.

Never invalid by itself; it tells a reader whether a "valid" verdict rests on
enough successful ops (a run where every op timed out proves little).
"""

from __future__ import annotations

import math
from typing import Any

from checkers.history import History
from checkers.result import CheckResult

NAME = "stats"
QUANTILES = (0.5, 0.9, 0.99)


def check_stats(history: History) -> CheckResult:
    """Counts of ok/fail/info per f, and latency quantiles (ms) of completed ops per f.

    Works on the history's columns (checkers.columns), shared with the other
    checkers: counting and sorting a million latencies there is a few numpy
    calls instead of passes over the op objects.
    """
    import numpy as np  # with the columns (see History.columns)

    from checkers.columns import INFO, TYPE_CODES

    c = history.columns()
    counts = np.bincount(c.f * len(TYPE_CODES) + c.type,
                         minlength=len(c.functions) * len(TYPE_CODES)).reshape(-1, len(TYPE_CODES))
    timed = (c.type != INFO) & (c.complete_time >= 0)  # ok and failed ops, completed
    latency = (c.complete_time - c.invoke_time)[timed]
    of = c.f[timed]
    by_name = sorted(range(len(c.functions)), key=c.functions.__getitem__)
    details: dict[str, Any] = {
        "ops": len(history.ops),
        "counts": {c.functions[f]: {t: int(counts[f, code]) for t, code in TYPE_CODES.items()}
                   for f in by_name},
        "latency_ms": {c.functions[f]: latency_summary(np.sort(latency[of == f]).tolist())
                       for f in by_name if np.any(of == f)},
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
