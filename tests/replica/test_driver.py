"""The quorum driver against in-process replicas that are down, slow or silent."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from replica.driver import QuorumDriver
from replica.errors import QuorumError
from replica.protocol import LOCAL_VERSION, WALL_CLOCK, Get, Put
from replica.transport import Unreachable
from replica.version import Version

NODES = ["n1", "n2", "n3"]


class FakeReplicas:
    """In-memory replicas; each may be 'up', 'down' (refuses), 'slow' or 'silent'."""

    def __init__(self, nodes: list[str]) -> None:
        self.data: dict[str, dict[str, tuple[Any, Version]]] = {node: {} for node in nodes}
        self.state = dict.fromkeys(nodes, "up")
        self.slow_delay = 0.05

    async def request(self, node: str, msg: Get | Put) -> tuple[Any, Version | None]:
        state = self.state[node]
        if state == "down":
            raise Unreachable("connection refused", delivered=False)
        if state == "silent":
            await asyncio.sleep(0.6)
            raise Unreachable("timed out", delivered=True)
        if state == "slow":
            await asyncio.sleep(self.slow_delay)
        copy = self.data[node].get(msg.key)
        if isinstance(msg, Get):
            return (copy[0], copy[1]) if copy else (None, None)
        if copy is None or msg.version > copy[1]:
            self.data[node][msg.key] = (msg.value, msg.version)
        return None, self.data[node][msg.key][1]

    def holders(self, key: str, version: Version) -> set[str]:
        return {node for node, data in self.data.items()
                if key in data and data[key][1] == version}


def driver(replicas: FakeReplicas, writer: str = "w1", request_timeout: float = 0.2,
           **kwargs: Any) -> QuorumDriver:
    return QuorumDriver(replicas, NODES, n=3, r=2, w=2, writer=writer,
                        request_timeout=request_timeout, **kwargs)


async def test_write_then_read_with_one_replica_down() -> None:
    replicas = FakeReplicas(NODES)
    replicas.state["n3"] = "down"
    d = driver(replicas)
    version = await d.write("k", "v1")
    assert version == Version(1, "w1")
    assert await d.read("k") == ("v1", version)
    version2 = await d.write("k", "v2")
    assert version2 == Version(2, "w1")


async def test_slow_replica_is_not_waited_for() -> None:
    replicas = FakeReplicas(NODES)
    replicas.state["n1"] = "slow"
    replicas.slow_delay = 0.5
    d = driver(replicas, request_timeout=1.0)
    loop = asyncio.get_running_loop()
    start = loop.time()
    await d.write("k", "v")
    assert loop.time() - start < 0.4
    await asyncio.sleep(0.6)  # the slow replica still gets the write eventually
    assert replicas.holders("k", Version(1, "w1")) == set(NODES)


async def test_read_write_back_repairs_a_stale_quorum() -> None:
    replicas = FakeReplicas(NODES)
    replicas.data["n1"]["k"] = ("new", Version(7, "x"))
    replicas.state["n1"] = "up"
    d = driver(replicas)
    value, version = await d.read("k")
    assert (value, version) == ("new", Version(7, "x"))
    assert len(replicas.holders("k", Version(7, "x"))) >= 2


async def test_write_with_quorum_refused_is_definite_failure() -> None:
    replicas = FakeReplicas(NODES)
    replicas.state.update(n2="down", n3="down")
    with pytest.raises(QuorumError) as info:
        await driver(replicas).write("k", "v")
    assert info.value.definite  # the version read failed: nothing was sent


async def test_silent_replicas_make_write_indefinite() -> None:
    replicas = FakeReplicas(NODES)
    d = driver(replicas)
    await d.write("k", "v1")
    # Version read succeeds from n1+n2, then n2 and n3 go silent for the Puts.
    replicas.state.update(n3="silent")
    original = replicas.request

    async def silent_puts(node: str, msg: Get | Put) -> tuple[Any, Version | None]:
        if isinstance(msg, Put) and node == "n2":
            await asyncio.sleep(0.3)
            raise Unreachable("timed out", delivered=True)
        return await original(node, msg)

    replicas.request = silent_puts  # type: ignore[method-assign]
    with pytest.raises(QuorumError) as info:
        await d.write("k", "v2")
    assert not info.value.definite
    assert "n1" in replicas.holders("k", Version(2, "w1"))  # a replica does hold it


async def test_timeout_bounds_an_operation() -> None:
    replicas = FakeReplicas(NODES)
    replicas.state.update(n2="silent", n3="silent")
    loop = asyncio.get_running_loop()
    start = loop.time()
    with pytest.raises(QuorumError):
        await driver(replicas).read("k")
    assert loop.time() - start < 0.5  # the phase timer (0.2 s), not the replies (0.6 s)


async def test_buggy_version_sources() -> None:
    replicas = FakeReplicas(NODES)
    await driver(replicas, writer="a").write("k", "first")
    await driver(replicas, writer="a").write("k", "second")  # version (2, a)
    stale = driver(replicas, writer="b", bugs=[LOCAL_VERSION], local_counter=lambda key: 0)
    assert await stale.write("k", "lost") == Version(1, "b")  # acknowledged...
    assert (await driver(replicas).read("k"))[0] == "second"  # ...and lost
    clock = driver(replicas, writer="c", bugs=[WALL_CLOCK], clock_micros=lambda: 1_000_000)
    assert await clock.write("k", "timed") == Version(1_000_000, "c")
