"""Benchmark 3: the stale-read graph checker on generated register histories.

For each size, a linearizable register history (20 concurrent processes, 100
keys, 5% info ops, unique values, versions) is generated and written as
history.jsonl; then a fresh process loads it and runs the graph checker, so the
peak memory measured is the checker's (plus the loaded history), not the
generator's. Prints a Markdown table for BENCHMARKS.md.

    python bench/checkers_graph.py [--sizes 10000,100000,1000000]
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from checkers.formats.jsonl import dump, load  # noqa: E402
from checkers.graph import check_graph  # noqa: E402
from checkers.synth import register_history  # noqa: E402


def measure(path: Path) -> dict[str, float]:
    """Load then check one history in this process; times in s, memory in MiB."""
    start, load_cpu = time.perf_counter(), time.process_time()
    history = load(path)
    loaded, load_cpu = time.perf_counter(), time.process_time() - load_cpu
    rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cpu = time.process_time()
    result = check_graph(history)
    cpu = time.process_time() - cpu
    checked = time.perf_counter()
    if result.valid is not True:
        raise SystemExit(f"expected a valid history, got {result.valid}")
    return {
        "ops": len(history.ops), "load_s": loaded - start, "load_cpu_s": load_cpu,
        "check_s": checked - loaded,
        "check_cpu_s": cpu, "peak_rss_after_load_mib": rss_loaded,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"python {platform.python_version()}")
    print("| ops | load wall (s) | load CPU (s) | check wall (s) | check CPU (s) "
          "| peak RSS (MiB) |")
    print("|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"history-{size}.jsonl"
            dump(register_history(size, processes=20, keys=100, info_rate=0.05,
                                  seed=args.seed), path)
            child = subprocess.run(
                [sys.executable, __file__, "--measure", str(path)],
                capture_output=True, text=True, check=True,
            )
            row = json.loads(child.stdout)
            print(f"| {size:,} | {row['load_s']:.2f} | {row['load_cpu_s']:.2f} | "
                  f"{row['check_s']:.2f} | "
                  f"{row['check_cpu_s']:.2f} | {row['peak_rss_mib']:.0f} |", flush=True)
            path.unlink()


if __name__ == "__main__":
    main()
