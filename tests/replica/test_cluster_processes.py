"""Integration: real node processes on 127.0.0.1, in both fan-out modes."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from replica_cluster import ProcessCluster

from replica.placement import preference_list

pytestmark = pytest.mark.slow

KEYS = [f"k{i}" for i in range(5)]


@dataclass
class Op:
    client: int
    f: str
    key: str
    value: Any
    start: float
    end: float
    version: tuple[int, str] | None


async def client_loop(session: aiohttp.ClientSession, client: int, url: str, ops: int,
                      done: list[Op], attempted: set[str]) -> None:
    rng = random.Random(client)
    for i in range(ops):
        key = rng.choice(KEYS)
        start = time.monotonic()
        if rng.random() < 0.5:
            value = f"{client}-{i}"
            attempted.add(value)
            async with session.put(f"{url}/kv/{key}", json={"value": value}) as resp:
                assert resp.status == 200, await resp.text()
                version = (await resp.json())["version"]
            done.append(Op(client, "write", key, value, start, time.monotonic(),
                           tuple(version)))
        else:
            async with session.get(f"{url}/kv/{key}") as resp:
                assert resp.status == 200, await resp.text()
                body = await resp.json()
            version = tuple(body["version"]) if body["version"] else None
            done.append(Op(client, "read", key, body["value"], start, time.monotonic(),
                           version))


def check_history(ops: list[Op], attempted: set[str]) -> None:
    """Reads see real writes, with the version that write got, never older than a
    write acknowledged before the read began, and versions are unique per write."""
    writes = {op.value: op for op in ops if op.f == "write"}
    assert len({(op.key, op.version) for op in writes.values()}) == len(writes)
    for read in (op for op in ops if op.f == "read"):
        if read.value is None:
            assert read.version is None
            continue
        assert read.value in attempted
        if read.value in writes:
            assert writes[read.value].version == read.version
        for write in writes.values():
            if write.key == read.key and write.end < read.start:
                assert read.version is not None and read.version >= write.version, (read, write)


async def wait_converged(session: aiohttp.ClientSession, cluster: ProcessCluster,
                         keys: list[str], n: int, timeout: float = 15.0) -> None:
    """Until every replica of every key holds the same copy (bounded in time)."""
    deadline = time.monotonic() + timeout
    copies: dict[str, list[Any]] = {}
    while time.monotonic() < deadline:
        copies = {}
        for key in keys:
            for node in preference_list(key, cluster.ids, n):
                async with session.get(f"{cluster.urls[node]}/internal/kv/{key}") as resp:
                    copies.setdefault(key, []).append(await resp.json())
        if all(c.count(c[0]) == len(c) for c in copies.values()):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"replicas did not converge: {copies}")


@pytest.mark.parametrize(("size", "n", "r", "w", "mode"), [
    (3, 3, 2, 2, "coordinator"),
    (3, 3, 2, 2, "client"),
    (5, 5, 3, 3, "coordinator"),
    (5, 5, 3, 3, "client"),
    (5, 3, 2, 2, "coordinator"),
])
async def test_concurrent_clients(tmp_path: Path, size: int, n: int, r: int, w: int,
                                  mode: str) -> None:
    ids = [f"n{i}" for i in range(1, size + 1)]
    with ProcessCluster(tmp_path, ids, n=n, r=r, w=w,
                        args=("--request-timeout", "2", "--anti-entropy-interval", "0.2")) as c:
        c.start_all()
        urls = [c.start_agent() for _ in ids] if mode == "client" else list(c.urls.values())
        ops: list[Op] = []
        attempted: set[str] = set()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            await asyncio.gather(*(client_loop(session, p, urls[p % len(urls)], 25, ops,
                                               attempted) for p in range(8)))
            check_history(ops, attempted)
            assert sum(op.f == "write" for op in ops) > 50
            await wait_converged(session, c, KEYS, n)


async def test_killed_node_catches_up_by_anti_entropy_alone(tmp_path: Path) -> None:
    ids = [f"n{i}" for i in range(1, 6)]
    with ProcessCluster(tmp_path, ids, n=5, r=3, w=3,
                        args=("--anti-entropy-interval", "0.2")) as c:
        c.start_all()
        keys = [f"key{i}" for i in range(30)]
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            async with session.put(f"{c.urls['n1']}/kv/before", json={"value": 0}) as resp:
                assert resp.status == 200
            # The write returns after w = 3 acks, so n5's copy may still be in flight:
            # wait until n5 holds it, so that the kill below tests what n5 had stored.
            await wait_converged(session, c, ["before"], n=5, timeout=10)
            c.kill("n5")
            for i, key in enumerate(keys):
                url = c.urls[ids[i % 4]]
                async with session.put(f"{url}/kv/{key}", json={"value": i}) as resp:
                    assert resp.status == 200, await resp.text()
            c.start("n5")
            async with session.get(f"{c.urls['n5']}/internal/kv/before") as resp:
                assert (await resp.json())["value"] == 0  # its own data survived the kill
            # No client traffic from here on: only anti-entropy can repair n5.
            await wait_converged(session, c, [*keys, "before"], n=5, timeout=20)
        assert "anti-entropy" in c.log("n5")
        assert "peer n5 unreachable" in "".join(c.log(node) for node in ids[:4])
