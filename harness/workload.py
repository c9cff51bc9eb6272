"""The register workload: random reads and unique-valued writes over a few keys,
issued by concurrent asyncio workers and recorded as Jepsen-style ops.

Process p lives at home node p mod N. After an `info` op the worker continues
under process p + concurrency, since the old op may still be in flight.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from harness.client import Outcome
from harness.recorder import Recorder

FAIL_BACKOFF = 0.05  # seconds a worker waits after a failed op (jittered)


class OpClient(Protocol):
    """What a worker needs from a client: one read or write against a URL."""

    async def read(self, base_url: str, key: str) -> Outcome: ...

    async def write(self, base_url: str, key: str, value: Any) -> Outcome: ...


@dataclass(frozen=True)
class WorkloadPlan:
    """What the workers do; seeded so a plan can be replayed."""

    keys: Sequence[str]
    concurrency: int
    read_ratio: float
    rate: float  # ops/s over all workers; 0 = unbounded
    seed: int


def key_names(count: int) -> list[str]:
    return [f"k{i}" for i in range(count)]


class RateLimiter:
    """Spaces op starts so all workers together issue about `rate` ops/s."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next_start = time.monotonic()

    async def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        start = max(self.next_start, now)
        self.next_start = start + self.interval
        if start > now:
            await asyncio.sleep(start - now)


async def run_workers(plan: WorkloadPlan, client: OpClient,
                      homes: Sequence[tuple[str, str]], recorder: Recorder,
                      stop: asyncio.Event) -> None:
    """Run `plan.concurrency` workers until `stop` is set; each finishes its op.

    `homes` lists (node id, URL) pairs; worker p lives at homes[p mod len].
    """
    limiter = RateLimiter(plan.rate)
    async with asyncio.TaskGroup() as group:  # one worker failing stops them all
        for p in range(plan.concurrency):
            group.create_task(_worker(p, plan, client, homes[p % len(homes)], recorder, stop,
                                      limiter, random.Random(f"{plan.seed}-{p}")))


async def _worker(slot: int, plan: WorkloadPlan, client: OpClient, home: tuple[str, str],
                  recorder: Recorder, stop: asyncio.Event, limiter: RateLimiter,
                  rng: random.Random) -> None:
    node, url = home
    process = slot
    seq = 0
    while not stop.is_set():
        await limiter.wait()
        if stop.is_set():
            return
        key = rng.choice(plan.keys)
        if rng.random() < plan.read_ratio:
            recorder.record(process, "invoke", "read", key=key, node=node)
            outcome = await client.read(url, key)
            recorder.record(process, outcome.type, "read", key=key, value=outcome.value,
                            version=outcome.version, error=outcome.error, node=node)
        else:
            seq += 1
            value = f"{process}-{seq}"
            recorder.record(process, "invoke", "write", key=key, value=value, node=node)
            outcome = await client.write(url, key, value)
            recorder.record(process, outcome.type, "write", key=key, value=value,
                            version=outcome.version, error=outcome.error, node=node)
        if outcome.type == "info":
            process += plan.concurrency
            seq = 0
        elif outcome.type == "fail":
            # A node that is down fails at once; do not spin against it.
            await asyncio.sleep(FAIL_BACKOFF * rng.uniform(0.5, 1.5))
