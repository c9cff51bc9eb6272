"""The register workload: random reads, unique-valued writes and (when the
system has them) compare-and-sets over a few keys, issued by concurrent asyncio
workers and recorded as Jepsen-style ops.

A cas is recorded as Jepsen records it, ``"value": [old, new]``. Its ``old`` is
the last value this worker saw or wrote at that key, so that it often matches
(a cas of a value no one holds only fails, which tests nothing); a worker
that knows no value there yet writes instead. ``new`` is a fresh unique value
like a write's.

Process p lives at home node p mod N. After an `info` op the worker continues
under process p + concurrency, since the old op may still be in flight.

A cross read: after an ok op, with probability ``cross_read_ratio``, the
worker's next op reads the same key through another node, chosen at random.
This is a client whose load balancer sends its next request elsewhere, and it
is the access pattern that quorum bugs answer wrongly: a write acknowledged too
early is read back stale on the far side of the cluster before its last copies
land, and a read that returns a value it did not write back is contradicted by
the next read through a node that never saw it. Without cross reads such pairs
arise only when two unrelated workers happen to race on one key within a few
milliseconds (measured in BENCHMARKS.md, "Cross reads").
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
    """What a worker needs from a client: one op against its home's address."""

    async def read(self, base_url: str, key: str) -> Outcome: ...

    async def write(self, base_url: str, key: str, value: Any) -> Outcome: ...

    async def cas(self, base_url: str, key: str, old: Any, new: Any) -> Outcome: ...


@dataclass(frozen=True)
class WorkloadPlan:
    """What the workers do; seeded so a plan can be replayed."""

    keys: Sequence[str]
    concurrency: int
    read_ratio: float
    rate: float  # ops/s over all workers; 0 = unbounded
    seed: int
    cas_ratio: float = 0.0  # taken from the writes' share, after the reads'
    # Worker p starts as process first_process + p: a later workload in one
    # history (a session's second `quorumlab load`) must not reuse a process,
    # whose values "<process>-<seq>" would repeat.
    first_process: int = 0
    cross_read_ratio: float = 0.0  # share of ok ops followed by a read elsewhere


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
            group.create_task(_worker(p, plan, client, homes, recorder, stop,
                                      limiter, random.Random(f"{plan.seed}-{p}")))


def _elsewhere(homes: Sequence[tuple[str, str]], home: int, rng: random.Random) -> int:
    """Another home than ``home``, uniformly (``home`` itself when it is the only one)."""
    if len(homes) == 1:
        return home
    return (home + 1 + rng.randrange(len(homes) - 1)) % len(homes)


async def _worker(slot: int, plan: WorkloadPlan, client: OpClient,
                  homes: Sequence[tuple[str, str]], recorder: Recorder, stop: asyncio.Event,
                  limiter: RateLimiter, rng: random.Random) -> None:
    home = slot % len(homes)
    process = plan.first_process + slot
    seq = 0
    known: dict[str, Any] = {}  # key -> the last value this worker saw there
    cross_key: str | None = None  # the key to read through another node next
    while not stop.is_set():
        await limiter.wait()
        if stop.is_set():
            return
        if cross_key is not None:
            key, draw, reading = cross_key, 0.0, True
            node, url = homes[_elsewhere(homes, home, rng)]
            cross_key = None
        else:
            key, draw = rng.choice(plan.keys), rng.random()
            reading = draw < plan.read_ratio
            node, url = homes[home]
        if reading:
            recorder.record(process, "invoke", "read", key=key, node=node)
            outcome = await client.read(url, key)
            recorder.record(process, outcome.type, "read", key=key, value=outcome.value,
                            version=outcome.version, error=outcome.error, node=node)
            if outcome.type == "ok":
                known[key] = outcome.value
        else:
            seq += 1
            value = f"{process}-{seq}"
            if draw < plan.read_ratio + plan.cas_ratio and known.get(key) is not None:
                f, recorded = "cas", [known.get(key), value]
                recorder.record(process, "invoke", f, key=key, value=recorded, node=node)
                outcome = await client.cas(url, key, recorded[0], value)
            else:
                f, recorded = "write", value
                recorder.record(process, "invoke", f, key=key, value=recorded, node=node)
                outcome = await client.write(url, key, value)
            recorder.record(process, outcome.type, f, key=key, value=recorded,
                            version=outcome.version, error=outcome.error, node=node)
            if outcome.type == "ok":
                known[key] = value
        if (outcome.type == "ok" and plan.cross_read_ratio
                and rng.random() < plan.cross_read_ratio):
            cross_key = key
        if outcome.type == "info":
            process += plan.concurrency
            seq = 0
        elif outcome.type == "fail":
            # A node that is down fails at once; do not spin against it.
            await asyncio.sleep(FAIL_BACKOFF * rng.uniform(0.5, 1.5))
