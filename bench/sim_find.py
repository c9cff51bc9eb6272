"""How fast `quorumlab sim` finds each bug switch, and how small it shrinks it
(numbers for BENCHMARKS.md).

For each bug, the search runs with seeds 0..K-1 at the CLI's defaults; per bug:
how many seeds found it, the median wall time, CPU time and number of schedules
until the first failing schedule (on a shared machine the CPU time is the figure
to compare), and the largest and median shrunk schedule (client ops).

    python bench/sim_find.py --seeds 7 [--mode client]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from replica.protocol import BUGS
from sim.schedule import MODES
from sim.search import Space, search


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=7)
    parser.add_argument("--examples", type=int, default=1000)
    parser.add_argument("--bugs", default=",".join(BUGS))
    parser.add_argument("--mode", choices=MODES, default="coordinator")
    args = parser.parse_args()
    print("| bug | found | first failure: median wall s (max) | median CPU s (max) | "
          "median schedules | shrunk ops: median (max) | faults (max) | nodes (max) | "
          "total wall s per seed |")
    print("|---|---|---|---|---|---|---|---|---|")
    for bug in args.bugs.split(","):
        runs = [search(Space(bugs=(bug,), mode=args.mode), args.examples, seed)
                for seed in range(args.seeds)]
        found = [r for r in runs if r.found is not None]
        inf = float("inf")
        times = [r.first_failure_s if r.found else inf for r in runs]
        cpu = [r.first_failure_cpu_s if r.found else inf for r in runs]
        tries = [r.first_failure_example if r.found else inf for r in runs]
        ops = [r.found.op_count for r in found]
        print(f"| {bug} | {len(found)}/{len(runs)} | {statistics.median(times):.2f} "
              f"({max(times):.2f}) | {statistics.median(cpu):.2f} ({max(cpu):.2f}) | "
              f"{statistics.median(tries):g} | "
              f"{statistics.median(ops) if ops else '-'} ({max(ops, default='-')}) | "
              f"{max((len(r.found.faults) for r in found), default='-')} | "
              f"{max((r.found.nodes for r in found), default='-')} | "
              f"{statistics.median(r.seconds for r in runs):.1f} |", flush=True)


if __name__ == "__main__":
    main()
