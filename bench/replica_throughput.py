"""Throughput and latency of the reference replica (numbers for BENCHMARKS.md).

Starts 5 local node processes (r = w = 3 by default), runs 32 concurrent
clients doing 50/50 reads and writes of 100-byte values on random keys, in
node-coordinator mode (clients call the nodes' public API) and client-driven
mode (each client runs the quorum protocol itself with ``FanoutClient``), each
with and without group commit. Prints a Markdown table: ops/s, p50/p99 latency
and CPU time per op (of all node processes, and of this load generator).

    python bench/replica_throughput.py --duration 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from replica.client import FanoutClient  # noqa: E402
from replica.delivery import new_session  # noqa: E402
from replica.errors import QuorumError  # noqa: E402
from replica.storage import Store  # noqa: E402
from replica.version import Version  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    mode: str
    group_commit: bool
    ops: int
    errors: int
    seconds: float
    latencies: list[float]
    node_cpu: float  # seconds, all node processes
    client_cpu: float  # seconds, this load generator (and fan-out clients)
    writes_per_commit: float

    def row(self) -> str:
        lat = sorted(self.latencies)
        p50 = lat[len(lat) // 2] * 1000 if lat else float("nan")
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else float("nan")
        return (f"| {self.mode} | {'on' if self.group_commit else 'off'} | "
                f"{self.ops / self.seconds:.0f} | {p50:.1f} | {p99:.1f} | "
                f"{self.node_cpu / max(self.ops, 1) * 1000:.2f} | "
                f"{self.client_cpu / max(self.ops, 1) * 1000:.2f} | "
                f"{self.writes_per_commit:.1f} | {self.errors} |")


HEADER = ("| mode | group commit | ops/s | p50 ms | p99 ms | nodes CPU ms/op | "
          "client CPU ms/op | writes/commit | errors |\n|---|---|---|---|---|---|---|---|---|")


def free_ports(count: int) -> list[int]:
    import socket

    socks = [socket.socket() for _ in range(count)]
    for sock in socks:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in socks]
    for sock in socks:
        sock.close()
    return ports


def proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def get_json(url: str) -> dict:
    import json

    with urllib.request.urlopen(url, timeout=2) as resp:
        return json.loads(resp.read())


class Cluster:
    def __init__(self, size: int, n: int, r: int, w: int, group_commit: bool,
                 data_root: str | None, node_flags: list[str]) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="replica-bench-", dir=data_root))
        self.ids = [f"n{i}" for i in range(1, size + 1)]
        addresses = dict(zip(self.ids, free_ports(size), strict=True))
        self.urls = {node: f"http://127.0.0.1:{port}" for node, port in addresses.items()}
        peers = ",".join(f"{node}=127.0.0.1:{port}" for node, port in addresses.items())
        self.procs = []
        for node, port in addresses.items():
            cmd = [sys.executable, "-m", "replica", "--id", node, "--listen",
                   f"127.0.0.1:{port}", "--peers", peers, "--n", str(n), "--r", str(r),
                   "--w", str(w), "--data-dir", str(self.dir / node),
                   "--request-timeout", "2", *node_flags]
            if not group_commit:
                cmd.append("--no-group-commit")
            log = open(self.dir / f"{node}.log", "wb")  # noqa: SIM115 - lives with the process
            self.procs.append(subprocess.Popen(cmd, cwd=REPO, stdout=log, stderr=log))
        for url in self.urls.values():
            self._wait(url)

    def _wait(self, url: str) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                get_json(f"{url}/health")
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{url} did not start")

    def cpu(self) -> float:
        return sum(proc_cpu(p.pid) for p in self.procs)

    def commits(self) -> int:
        return sum(get_json(f"{url}/health")["commits"] for url in self.urls.values())

    def close(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


Op = Callable[[str, str | None], Awaitable[None]]


async def drive(op: Op, clients: int, keys: int, value_size: int, latencies: list[float],
                counts: dict[str, int], measuring: asyncio.Event, stop: asyncio.Event) -> None:
    """Closed loop: each client sends its next op as soon as the last one ends."""
    async def one_client(seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            key = f"key{rng.randrange(keys)}"
            value = None if rng.random() < 0.5 else f"{seed:04d}" + "x" * (value_size - 4)
            start = time.perf_counter()
            try:
                await op(key, value)
                ok = True
            except (QuorumError, aiohttp.ClientError, TimeoutError):
                ok = False
            if measuring.is_set():
                if ok:
                    latencies.append(time.perf_counter() - start)
                    counts["ok"] += 1
                    counts["writes"] += value is not None
                else:
                    counts["errors"] += 1

    await asyncio.gather(*(one_client(i) for i in range(clients)))


async def run_one(mode: str, group_commit: bool, args: argparse.Namespace) -> Result:
    cluster = Cluster(args.nodes, args.n, args.r, args.w, group_commit, args.data_root,
                      args.node_flag)
    session = new_session()
    try:
        urls = list(cluster.urls.values())
        if mode == "coordinator":
            rr = iter(range(10**12))

            async def op(key: str, value: str | None) -> None:
                url = urls[next(rr) % len(urls)]
                if value is None:
                    async with session.get(f"{url}/kv/{key}") as resp:
                        await resp.read()
                        ok = resp.status == 200
                else:
                    async with session.put(f"{url}/kv/{key}", json={"value": value}) as resp:
                        await resp.read()
                        ok = resp.status == 200
                if not ok:
                    raise QuorumError(f"HTTP {resp.status}", definite=False)
        else:
            fanout = [FanoutClient(cluster.urls, args.n, args.r, args.w, 2.0, session=session)
                      for _ in range(args.clients)]
            picks = iter(range(10**12))

            async def op(key: str, value: str | None) -> None:
                client = fanout[next(picks) % len(fanout)]
                if value is None:
                    await client.read(key)
                else:
                    await client.write(key, value)

        latencies: list[float] = []
        counts = {"ok": 0, "errors": 0, "writes": 0}
        measuring, stop = asyncio.Event(), asyncio.Event()
        load = asyncio.create_task(drive(op, args.clients, args.keys, args.value_size,
                                         latencies, counts, measuring, stop))
        await asyncio.sleep(args.warmup)
        cpu0, self0, commits0 = cluster.cpu(), time.process_time(), cluster.commits()
        measuring.set()
        start = time.perf_counter()
        await asyncio.sleep(args.duration)
        measuring.clear()
        seconds = time.perf_counter() - start
        node_cpu, client_cpu = cluster.cpu() - cpu0, time.process_time() - self0
        commits = cluster.commits() - commits0
        stop.set()
        await load
        # Each write commits on every replica of its key (n of them); read
        # write-backs and anti-entropy add a few commits, so this is a floor.
        return Result(mode, group_commit, counts["ok"], counts["errors"], seconds, latencies,
                      node_cpu, client_cpu, counts["writes"] * args.n / max(commits, 1))
    finally:
        await session.close()
        cluster.close()


async def storage_only(group_commit: bool, args: argparse.Namespace) -> str:
    """What group commit gains where it acts: concurrent durable writes into one store."""
    data_dir = Path(tempfile.mkdtemp(prefix="replica-bench-store-", dir=args.data_root))
    store = await Store.open(data_dir, group_commit=group_commit)
    done = 0
    deadline = time.perf_counter() + args.storage_seconds

    async def writer(i: int) -> None:
        nonlocal done
        counter = 0
        while time.perf_counter() < deadline:
            counter += 1
            await store.put(f"w{i}-{counter % 100}", '"' + "x" * args.value_size + '"',
                            Version(counter, f"w{i}"))
            done += 1

    start_cpu = time.process_time()
    await asyncio.gather(*(writer(i) for i in range(args.clients)))
    cpu = time.process_time() - start_cpu
    commits = store.commits
    await store.close()
    shutil.rmtree(data_dir, ignore_errors=True)
    return (f"| {'on' if group_commit else 'off'} | {done / args.storage_seconds:.0f} | "
            f"{done / max(commits, 1):.1f} | {cpu / max(done, 1) * 1e6:.0f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before measuring")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--nodes", type=int, default=5)
    parser.add_argument("--n", type=int, default=5)
    parser.add_argument("--r", type=int, default=3)
    parser.add_argument("--w", type=int, default=3)
    parser.add_argument("--keys", type=int, default=1000)
    parser.add_argument("--value-size", type=int, default=100)
    parser.add_argument("--modes", default="coordinator,client",
                        help="comma-separated: coordinator, client (empty: storage only)")
    parser.add_argument("--data-root", help="where node data directories go (default: $TMPDIR)")
    parser.add_argument("--node-flag", action="append", default=[], metavar="FLAG",
                        help="extra flag for every node, e.g. --node-flag=--no-batching")
    parser.add_argument("--storage-seconds", type=float, default=5.0,
                        help="duration of the storage-only group-commit runs (0 skips them)")
    args = parser.parse_args()
    print(f"{args.nodes} nodes, n={args.n} r={args.r} w={args.w}, {args.clients} clients, "
          f"50/50 read/write, {args.value_size}-byte values, {args.keys} keys, "
          f"{args.duration:.0f} s per run, node flags: {' '.join(args.node_flag) or 'none'}\n")
    print(HEADER, flush=True)
    modes = [mode for mode in args.modes.split(",") if mode]
    if set(modes) - {"coordinator", "client"}:
        parser.error(f"unknown mode in --modes {args.modes!r}")
    for mode in modes:
        for group_commit in (True, False):
            print(asyncio.run(run_one(mode, group_commit, args)).row(), flush=True)
    if args.storage_seconds > 0:
        print(f"\nStorage alone: {args.clients} concurrent writers into one store "
              f"(sqlite WAL, synchronous=FULL), {args.storage_seconds:.0f} s each\n")
        print("| group commit | durable writes/s | writes/commit | CPU µs/write |\n"
              "|---|---|---|---|")
        for group_commit in (True, False):
            print(asyncio.run(storage_only(group_commit, args)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
