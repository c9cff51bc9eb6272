"""Stats: how many ops of each kind succeeded, failed or were uncertain, and how fast.

Never invalid by itself; it tells a reader whether a "valid" verdict rests on
enough successful ops (a run where every op timed out proves little).
"""

from __future__ import annotations

import math
from collections import Counter
from operator import attrgetter
from typing import Any

from checkers.history import BULK_FROM, History
from checkers.result import CheckResult

NAME = "stats"
QUANTILES = (0.5, 0.9, 0.99)


def check_stats(history: History) -> CheckResult:
    """Counts of ok/fail/info per f, and latency quantiles (ms) of completed ops per f."""
    tally = _tally_columns if len(history.ops) >= BULK_FROM else _tally_ops
    counts, latencies = tally(history)
    details: dict[str, Any] = {
        "ops": len(history.ops),
        "counts": {f: {t: counts.get((f, t), 0) for t in ("ok", "fail", "info")}
                   for f in sorted({f for f, _ in counts})},
        "latency_ms": {f: latency_summary(values) for f, values in sorted(latencies.items())
                       if values},
    }
    return CheckResult(checker=NAME, valid=True, details=details)


Tally = tuple[dict[tuple[str, str], int], dict[str, list[int]]]


def _tally_ops(history: History) -> Tally:
    """((f, type) -> how many, f -> latencies of its ok and failed ops), op by op."""
    counts = Counter(map(attrgetter("f", "type"), history.ops))
    latencies = {  # one comprehension per function, in C
        f: [op.complete_time - op.invoke_time for op in history.ops
            if op.f == f and op.complete_time is not None and op.type != "info"]
        for f in {f for f, _ in counts}
    }
    return counts, latencies


def _tally_columns(history: History) -> Tally:
    """The same on the history's columns (checkers.columns), shared with the
    other checkers: at a million ops a few numpy calls instead of passes over
    the op objects."""
    import numpy as np  # with the columns (see History.columns)

    from checkers.columns import INFO, TYPE_CODES

    c = history.columns()
    width = len(TYPE_CODES)
    per_f = np.bincount(c.f * width + c.type, minlength=len(c.functions) * width)
    kinds = list(TYPE_CODES)
    counts = {(c.functions[code // width], kinds[code % width]): n
              for code, n in enumerate(per_f.tolist()) if n}
    timed = (c.type != INFO) & (c.complete_time >= 0)  # ok and failed ops, completed
    latency, of = (c.complete_time - c.invoke_time)[timed], c.f[timed]
    latencies = {f: np.sort(latency[of == code]).tolist() for code, f in enumerate(c.functions)}
    return counts, latencies


def latency_summary(nanoseconds: list[int]) -> dict[str, float]:
    """Nearest-rank quantiles and the maximum, in milliseconds."""
    ordered = sorted(nanoseconds)
    summary = {
        f"p{round(q * 100)}": ordered[max(0, math.ceil(q * len(ordered)) - 1)] / 1e6
        for q in QUANTILES
    }
    summary["max"] = ordered[-1] / 1e6
    return summary
