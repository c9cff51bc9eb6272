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
import os
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
from harness.backends.local.proxy import LOCALHOST, LinkProxies


@dataclass
class Result:
    ops: int
    errors: int
    seconds: float
    cpu_seconds: float  # this process: clients and proxies
    latencies: list[float]
    node_cpu_seconds: float = 0.0  # every node (and agent) process

    def row(self, label: str) -> str:
        q = statistics.quantiles(self.latencies, n=100) if len(self.latencies) > 1 else [0] * 99
        per_op = 1e6 / max(self.ops, 1)
        return (f"| {label} | {self.ops / self.seconds:.0f} | {q[49] * 1000:.1f} | "
                f"{q[98] * 1000:.1f} | {self.cpu_seconds * per_op:.0f} | "
                f"{self.node_cpu_seconds * per_op:.0f} | {self.errors} |")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of ``pids``, from /proc."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


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
            before = cpu_seconds(backend.pids())
            result = await load(urls, concurrency, args.seconds, args.keys, args.read_ratio)
            result.node_cpu_seconds = cpu_seconds(backend.pids()) - before
            return result
        finally:
            await backend.teardown()


async def echo_round_trips(count: int, concurrency: int) -> None:
    """The proxy alone: small request/reply round trips to an echo server,
    direct and through one link proxy, in this process's loop; CPU per trip."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while line := await reader.readline():
            writer.write(line)
        writer.close()

    server = await asyncio.start_server(serve, LOCALHOST, 0)
    target = server.sockets[0].getsockname()[1]
    proxies = LinkProxies()
    proxied = await proxies.add("a", "b", (LOCALHOST, target))
    message = b"x" * 200 + b"\n"  # about one small internal-API request
    try:
        for label, port in (("direct", target), ("proxied", proxied)):
            async def client(port: int = port) -> None:
                reader, writer = await asyncio.open_connection(LOCALHOST, port)
                for _ in range(count // concurrency):
                    writer.write(message)
                    await reader.readline()
                writer.close()

            cpu0, wall0 = time.process_time(), time.monotonic()
            await asyncio.gather(*(client() for _ in range(concurrency)))
            cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
            print(f"| echo, {label}, {concurrency} connections | {count / wall:.0f} trips/s | "
                  f"{cpu / count * 1e6:.0f} µs CPU per trip (echo server included) |")
    finally:
        await proxies.close()
        server.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--r", type=int, default=3)
    parser.add_argument("--w", type=int, default=3)
    parser.add_argument("--keys", type=int, default=8)
    parser.add_argument("--read-ratio", type=float, default=0.5)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--modes", nargs="*", default=["coordinator", "client"])
    parser.add_argument("--echo-trips", type=int, default=20000,
                        help="round trips for the proxy-alone measurement (0: skip)")
    args = parser.parse_args()
    if args.echo_trips:
        print("| proxy alone | throughput | CPU |\n|---|---|---|")
        await echo_round_trips(args.echo_trips, 10)
        print()
    print(f"{args.nodes} nodes, r={args.r} w={args.w}, {args.keys} keys, "
          f"read ratio {args.read_ratio}, {args.seconds:g} s per row, {os.cpu_count()} CPUs\n")
    print("| setting | ops/s | p50 ms | p99 ms | harness CPU µs/op | nodes CPU µs/op | errors |")
    print("|---|---|---|---|---|---|---|")
    for mode, concurrency in itertools.product(args.modes, args.concurrency):
        for proxies in (False, True):
            result = await measure(args, mode, proxies, concurrency)
            label = f"{mode}, c={concurrency}, {'proxies' if proxies else 'direct'}"
            print(result.row(label), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
