"""The correct replica over 100,000 simulated client ops, every fault kind,
both modes (a benchmark, not CI; numbers for BENCHMARKS.md).

hypothesis draws schedules from the same strategy as `quorumlab sim`, made
larger (up to 10 clients of 60 ops, 6 faults of every kind, 5 nodes); each is
simulated and checked by the same checkers. A schedule that fails is a false
alarm: hypothesis shrinks it and it is printed, and the exit status is 1.

    python bench/sim_sweep.py --ops 100000 --seed 0
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis.errors import NoSuchExample

from sim.schedule import Schedule
from sim.search import Space, check_run, schedules
from sim.simulation import simulate


class Enough(Exception):
    """The op budget is spent."""


def sweep(mode: str, ops: int, seed: int) -> tuple[Schedule | None, dict[str, object]]:
    space = Space(mode=mode, max_clients=10, max_ops=60, max_faults=6)
    seen: Counter[str] = Counter()
    counts = {"schedules": 0, "ops": 0, "unknown": 0}

    def false_alarm(schedule: Schedule) -> bool:
        if counts["ops"] >= ops:
            raise Enough
        counts["schedules"] += 1
        counts["ops"] += schedule.op_count
        seen.update(fault.kind for fault in schedule.faults)
        verdict = check_run(simulate(schedule)).verdict
        counts["unknown"] += verdict == "unknown"
        return verdict is False

    config = settings(max_examples=10**7, database=None, deadline=None,
                      phases=(Phase.generate, Phase.shrink),
                      suppress_health_check=list(HealthCheck))
    try:
        found = find(schedules(space), false_alarm, settings=config, random=random.Random(seed))
    except (NoSuchExample, Enough):
        found = None
    return found, {**counts, "faults": dict(sorted(seen.items()))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=100_000, help="client ops per mode")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    status = 0
    for mode in ("coordinator", "client"):
        started = time.perf_counter()
        found, counts = sweep(mode, args.ops, args.seed)
        print(f"{mode}: {counts['ops']} ops in {counts['schedules']} schedules, "
              f"{time.perf_counter() - started:.0f} s; unknown verdicts {counts['unknown']}; "
              f"faults drawn {counts['faults']}")
        if found is not None:
            status = 1
            print(f"  FALSE ALARM, shrunk: {found.to_json()}")
        else:
            print("  no anomaly")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
