"""Benchmark: report.html for large histories stays small and quick to render.

For each size, a linearizable register history (20 processes, 3 hot keys,
5% info ops) is generated, then ``--anomalies`` stale reads are appended (each
a read, after everything, of a key's first acknowledged version), so the page
has many anomalies on keys with many ops. The graph and stats checkers run
(linearizability is left out: its cost is benchmarked on its own), then the
page is rendered. Prints a Markdown table for BENCHMARKS.md.

    python bench/report_size.py [--sizes 10000,100000,1000000] [--anomalies 500]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from checkers.api import check  # noqa: E402
from checkers.history import Event, History, pair_ops  # noqa: E402
from checkers.synth import register_history  # noqa: E402
from harness.report import ReportPage, render_report  # noqa: E402


def with_stale_reads(history: History, count: int) -> History:
    """``count`` reads, each after the end, returning a key's first acknowledged write."""
    first: dict[str, tuple[object, tuple[int, str]]] = {}
    for op in history.ops:
        if op.f == "write" and op.type == "ok" and op.version and op.key not in first:
            first[op.key] = (op.value, tuple(op.version))
    events = list(history.events)
    time_ns = max(event.time for event in events) + 1_000_000
    keys = sorted(first)
    for n in range(count):
        key = keys[n % len(keys)]
        value, version = first[key]
        process = 100_000 + n
        events.append(Event(len(events), time_ns, process, "invoke", "read", key=key))
        events.append(Event(len(events), time_ns + 500_000, process, "ok", "read", key=key,
                            value=value, version=version))
        time_ns += 1_000_000
    return History(events=events, ops=pair_ops(events))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--anomalies", type=int, default=500)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, Python {platform.python_version()}")
    print("| ops | anomalies | check s | render s | report.html MiB |")
    print("|---|---|---|---|---|")
    for size in (int(s) for s in args.sizes.split(",")):
        history = with_stale_reads(register_history(size, processes=20, keys=3, seed=1),
                                   args.anomalies)
        started = time.perf_counter()
        report = check(history, checkers=["graph", "stats"])
        checked = time.perf_counter()
        page = render_report(ReportPage(title=f"{size} ops", history=history, report=report,
                                        verdict=report.verdict, facts=[]))
        rendered = time.perf_counter()
        anomalies = sum(len(result.anomalies) for result in report.results)
        print(f"| {size:,} | {anomalies} | {checked - started:.1f} | "
              f"{rendered - checked:.1f} | {len(page.encode()) / 2**20:.2f} |", flush=True)


if __name__ == "__main__":
    main()
