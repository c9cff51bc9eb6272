"""Simulated client ops per second of wall time (numbers for BENCHMARKS.md).

Five reference nodes (r = w = 3) in the simulator, 10 clients doing 50/50
reads and writes on 3 keys back to back, the correct replica, in both modes:
once with no faults and once under every fault kind (a fault every ~100 ms of
virtual time). Only the simulation is timed (checking is `quorumlab check`'s
cost, measured in its own benchmarks). With ``--profile`` it prints where the
time goes (cProfile, top functions by own time). With ``--repeat N`` each run
is timed N times and the best kept: on a shared machine, the least disturbed.

    python bench/sim_throughput.py --ops 2000 [--repeat 3] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.schedule import FAULT_KINDS, ClientOp, FaultEvent, LinkModel, Schedule
from sim.simulation import simulate


def workload(ops: int, clients: int, keys: int, seed: int) -> tuple[tuple[ClientOp, ...], ...]:
    rng = random.Random(seed)
    return tuple(tuple(ClientOp(0.0, rng.choice(("read", "write")), rng.randrange(keys))
                       for _ in range(ops)) for _ in range(clients))


def faults(count: int, seed: int) -> tuple[FaultEvent, ...]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        kind = rng.choice(FAULT_KINDS)
        link = kind == "link"
        out.append(FaultEvent(at_ms=100.0 * i, kind=kind, duration_ms=80.0,
                              seed=rng.randrange(256),
                              links=(("n1", "n2"), ("n3", "n1")) if link else (),
                              model=LinkModel(mean_ms=20.0, loss=0.3, duplicate=0.3,
                                              reorder=0.3) if link else None))
    return tuple(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=2000, help="ops per client")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each schedule this many times; the best wall and CPU times")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    print("| mode | faults | client ops | messages | virtual s | wall s | CPU s "
          "| ops/s wall | ops/s CPU | messages/s CPU |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for mode in ("coordinator", "client"):
        for with_faults in (False, True):
            schedule = Schedule(nodes=5, mode=mode, keys=3,
                                clients=workload(args.ops, args.clients, 3, 1),
                                faults=faults(40, 2) if with_faults else (), seed=3)
            wall = cpu = float("inf")
            for _ in range(args.repeat):  # the least disturbed run of each
                started, cpu_started = time.perf_counter(), time.process_time()
                result = simulate(schedule)
                wall = min(wall, time.perf_counter() - started)
                cpu = min(cpu, time.process_time() - cpu_started)
            ops, messages = schedule.op_count, result.stats["messages"]
            print(f"| {mode} | {'all kinds' if with_faults else 'none'} | {ops} | {messages} | "
                  f"{result.stats['virtual_seconds']:.1f} | {wall:.2f} | {cpu:.2f} | "
                  f"{ops / wall:,.0f} | {ops / cpu:,.0f} | {messages / cpu:,.0f} |")
    if args.profile:
        schedule = Schedule(nodes=5, keys=3, clients=workload(args.ops, args.clients, 3, 1),
                            seed=3)
        profile = cProfile.Profile()
        profile.runcall(simulate, schedule)
        pstats.Stats(profile).sort_stats("tottime").print_stats(18)


if __name__ == "__main__":
    main()
