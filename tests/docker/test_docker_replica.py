"""The reference replica on the Docker backend: quorums across real containers."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from conftest import MakeCluster
from docker_helpers import wait_http

from harness.backends.docker import DockerBackend

pytestmark = [pytest.mark.docker, pytest.mark.slow]
TIMEOUT = aiohttp.ClientTimeout(total=5)


async def put(url: str, key: str, value: str) -> int:
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session, \
            session.put(f"{url}/kv/{key}", json={"value": value}) as resp:
        return resp.status


async def get(url: str, key: str) -> dict[str, Any]:
    async with aiohttp.ClientSession(timeout=TIMEOUT) as session, \
            session.get(f"{url}/kv/{key}") as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def healthy(backend: DockerBackend, urls: list[str]) -> None:
    await asyncio.gather(*(wait_http(u + "/health") for u in urls))


def isolate(node: str, nodes: tuple[str, ...]) -> dict[str, set[str]]:
    """`node` on one side, everyone else on the other, both directions."""
    others = set(nodes) - {node}
    return {node: others, **{o: {node} for o in others}}


async def test_five_nodes_replicate_through_kills_and_partitions(
        make_cluster: MakeCluster) -> None:
    backend = await make_cluster(size=5, replica_cmd=None)
    nodes = backend.spec.nodes
    await healthy(backend, [backend.public_url(n) for n in nodes])
    assert await put(backend.public_url("n1"), "k", "v1") == 200
    assert (await get(backend.public_url("n5"), "k"))["value"] == "v1"

    await asyncio.gather(backend.kill("n1"), backend.kill("n2"))
    assert await put(backend.public_url("n3"), "k", "v2") == 200  # 3 of 5 still up
    await asyncio.gather(backend.start("n1"), backend.start("n2"))
    await healthy(backend, [backend.public_url("n1"), backend.public_url("n2")])
    assert (await get(backend.public_url("n1"), "k"))["value"] == "v2"

    await backend.partition(isolate("n1", nodes))
    assert await put(backend.public_url("n1"), "k", "lonely") == 503  # no quorum alone
    assert await put(backend.public_url("n2"), "k", "v3") == 200
    await backend.heal()
    assert (await get(backend.public_url("n1"), "k"))["value"] == "v3"


async def test_client_mode_agents_suffer_their_home_partitions(
        make_cluster: MakeCluster) -> None:
    backend = await make_cluster(size=3, replica_cmd=None, mode="client")
    nodes = backend.spec.nodes
    agents = [backend.client_url(n) for n in nodes]
    assert set(agents).isdisjoint(backend.public_url(n) for n in nodes)
    await healthy(backend, [backend.public_url(n) for n in nodes] + agents)
    assert await put(backend.client_url("n1"), "k", "a") == 200

    await backend.partition(isolate("n1", nodes))
    # The agent at n1 reaches only n1: no write quorum (2 of 3). Elsewhere: fine.
    assert await put(backend.client_url("n1"), "k", "cut-off") != 200
    assert await put(backend.client_url("n2"), "k", "b") == 200
    await backend.heal()
    assert await put(backend.client_url("n1"), "k", "c") == 200
    assert (await get(backend.client_url("n3"), "k"))["value"] == "c"
