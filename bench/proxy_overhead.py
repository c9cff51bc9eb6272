"""What the local backend's link proxies cost: throughput with and without them.

Starts a cluster of the reference replica on the local backend twice per
setting, once with every node-to-node link through the harness's proxies and
once wired directly, and drives it (no faults) with a closed loop of
concurrent clients running in the same event loop as the proxies, as a test
run does. Prints ops/s, latency quantiles, and the harness process's CPU per op
(clients + proxies), whose difference is what the proxies cost the harness.

    python bench/proxy_overhead.py --nodes 5 --concurrency 10 50 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness.backends.base import ClusterSpec
from harness.backends.local import LocalBackend


@dataclass
class Result:
    ops: int
    errors: int
    seconds: float
    cpu_seconds: float
    latencies: list[float]

    def row(self, label: str) -> str:
        q = statistics.quantiles(self.latencies, n=100) if len(self.latencies) > 1 else [0] * 99
        return (f"{label:<34} {self.ops / self.seconds:>8.0f} ops/s  "
                f"p50 {q[49] * 1000:6.1f} ms  p99 {q[98] * 1000:6.1f} ms  "
                f"harness CPU {self.cpu_seconds / max(self.ops, 1) * 1e6:6.0f} µs/op  "
                f"errors {self.errors}")


async def wait_healthy(session: aiohttp.ClientSession, urls: list[str]) -> None:
    deadline = time.monotonic() + 20
    for url in urls:
        while True:
            try:
                async with session.get(url + "/health") as reply:
                    if reply.status == 200:
                        break
            except aiohttp.ClientError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} never became healthy")
            await asyncio.sleep(0.05)


async def load(urls: list[str], concurrency: int, seconds: float, keys: int,
               read_ratio: float) -> Result:
    """A closed loop: each worker sends its next op as soon as the last returns."""
    latencies: list[float] = []
    errors = 0
    counter = itertools.count()
    timeout = aiohttp.ClientTimeout(total=2.0)
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        await wait_healthy(session, sorted(set(urls)))
        deadline = time.monotonic() + seconds

        async def worker(p: int) -> None:
            nonlocal errors
            rng = random.Random(p)
            base = urls[p % len(urls)]
            while time.monotonic() < deadline:
                key = f"k{rng.randrange(keys)}"
                began = time.monotonic()
                try:
                    if rng.random() < read_ratio:
                        async with session.get(f"{base}/kv/{key}") as reply:
                            await reply.read()
                    else:
                        async with session.put(f"{base}/kv/{key}",
                                               json={"value": f"{p}-{next(counter)}"}) as reply:
                            await reply.read()
                    ok = reply.status == 200
                except (aiohttp.ClientError, TimeoutError):
                    ok = False
                if ok:
                    latencies.append(time.monotonic() - began)
                else:
                    errors += 1

        cpu0, wall0 = time.process_time(), time.monotonic()
        await asyncio.gather(*(worker(p) for p in range(concurrency)))
        cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    return Result(len(latencies), errors, wall, cpu, latencies)


async def measure(args: argparse.Namespace, mode: str, proxies: bool,
                  concurrency: int) -> Result:
    nodes = tuple(f"n{i}" for i in range(1, args.nodes + 1))
    with tempfile.TemporaryDirectory(prefix="quorumlab-bench-") as tmp:
        spec = ClusterSpec(run_id="bench", run_dir=Path(tmp), nodes=nodes, n=args.nodes,
                           r=args.r, w=args.w, mode=mode)
        backend = LocalBackend(spec, proxies=proxies)
        try:
            await backend.setup()
            urls = [backend.client_url(n) for n in nodes]
            await load(urls, concurrency, 1.0, args.keys, args.read_ratio)  # warm up
            return await load(urls, concurrency, args.seconds, args.keys, args.read_ratio)
        finally:
            await backend.teardown()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--r", type=int, default=3)
    parser.add_argument("--w", type=int, default=3)
    parser.add_argument("--keys", type=int, default=8)
    parser.add_argument("--read-ratio", type=float, default=0.5)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--modes", nargs="+", default=["coordinator", "client"])
    args = parser.parse_args()
    for mode, concurrency in itertools.product(args.modes, args.concurrency):
        for proxies in (False, True):
            result = await measure(args, mode, proxies, concurrency)
            label = f"{mode}, c={concurrency}, {'proxies' if proxies else 'direct'}"
            print(result.row(label), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
