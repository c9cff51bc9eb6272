"""Harness overhead: generator, workers and history recorder against an
in-process client that answers at once (it only yields to the event loop).

Prints ops/s sustained and microseconds of harness CPU per op. Target:
>= 20,000 ops/s with 50 workers, so the harness never limits a test.

    python bench/harness_overhead.py [--seconds 5] [--workers 50]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from harness.client import Outcome
from harness.recorder import Recorder
from harness.workload import WorkloadPlan, key_names, run_workers


class InstantClient:
    """Answers every op at once; a write gets a fresh version."""

    def __init__(self) -> None:
        self.counter = 0

    async def read(self, base_url: str, key: str) -> Outcome:
        await asyncio.sleep(0)
        return Outcome("ok", value=None, version=None)

    async def write(self, base_url: str, key: str, value: Any) -> Outcome:
        await asyncio.sleep(0)
        self.counter += 1
        return Outcome("ok", version=[self.counter, "bench"])


async def measure(seconds: float, workers: int, path: Path) -> tuple[int, float, float]:
    recorder = Recorder(path)
    plan = WorkloadPlan(keys=key_names(8), concurrency=workers, read_ratio=0.5, rate=0,
                        seed=1)
    stop = asyncio.Event()
    asyncio.get_running_loop().call_later(seconds, stop.set)
    wall, cpu = time.perf_counter(), time.process_time()
    await run_workers(plan, InstantClient(), [("n1", "http://unused")], recorder, stop)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    recorder.close()
    return recorder.count // 2, wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ops, wall, cpu = asyncio.run(measure(args.seconds, args.workers,
                                             Path(tmp) / "history.jsonl"))
    print(f"workers={args.workers} ops={ops} wall={wall:.2f}s "
          f"ops/s={ops / wall:,.0f} cpu/op={cpu / ops * 1e6:.1f}us")


if __name__ == "__main__":
    main()
