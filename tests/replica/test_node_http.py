"""Nodes served in-process over real HTTP: API, input checks, errors, anti-entropy."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from replica_cluster import inprocess_cluster

from replica.api import MAX_VALUE_BYTES, make_app, public_routes
from replica.client import FanoutClient
from replica.errors import QuorumError
from replica.version import Version

IDS = ["n1", "n2", "n3"]
QUORUM = {"n": 3, "r": 2, "w": 2, "anti_entropy_interval": 0}


def url(nodes: dict, node_id: str) -> str:
    return nodes[node_id].peers[node_id]


async def holders(session: aiohttp.ClientSession, nodes: dict, key: str) -> dict[str, list]:
    """Each running node's own version of `key`."""
    out = {}
    for node_id in nodes:
        async with session.get(f"{url(nodes, node_id)}/internal/kv/{key}") as resp:
            out[node_id] = (await resp.json())["version"]
    return out


async def test_write_on_one_node_read_on_another(tmp_path: Path) -> None:
    async with inprocess_cluster(tmp_path, IDS, **QUORUM) as nodes, aiohttp.ClientSession() as s:
        async with s.put(f"{url(nodes, 'n1')}/kv/k1", json={"value": {"a": [1, 2]}}) as resp:
            assert resp.status == 200
            version = (await resp.json())["version"]
        assert version[0] == 1 and version[1].startswith("n:n1:")
        async with s.get(f"{url(nodes, 'n2')}/kv/k1") as resp:
            assert await resp.json() == {"key": "k1", "value": {"a": [1, 2]}, "version": version}
        async with s.get(f"{url(nodes, 'n3')}/kv/never") as resp:
            assert await resp.json() == {"key": "never", "value": None, "version": None}
        async with s.get(f"{url(nodes, 'n3')}/health") as resp:
            assert resp.status == 200 and (await resp.json())["id"] == "n3"


async def test_fanout_client_shares_the_protocol(tmp_path: Path) -> None:
    async with inprocess_cluster(tmp_path, IDS, **QUORUM) as nodes:
        urls = {node_id: url(nodes, node_id) for node_id in IDS}
        async with FanoutClient(urls, n=3, r=2, w=2, writer="c:test") as client:
            await client.write("k", "one")
            version = await client.write("k", "two")
            assert version == (2, "c:test")
            assert await client.read("k") == ("two", version)
        async with aiohttp.ClientSession() as s:
            versions = await holders(s, nodes, "k")
        assert sum(v == [2, "c:test"] for v in versions.values()) >= 2


async def test_fanout_agent_app_serves_public_api(tmp_path: Path) -> None:
    async with inprocess_cluster(tmp_path, IDS, **QUORUM) as nodes:
        urls = {node_id: url(nodes, node_id) for node_id in IDS}
        client = FanoutClient(urls, n=3, r=2, w=2)
        server = TestServer(make_app(public_routes(client, dict)), host="127.0.0.1")
        await server.start_server()
        try:
            async with aiohttp.ClientSession() as s:
                async with s.put(server.make_url("/kv/a"), json={"value": 5}) as resp:
                    assert resp.status == 200
                async with s.get(server.make_url("/kv/a")) as resp:
                    assert (await resp.json())["value"] == 5
                async with s.put(server.make_url("/kv/a%20b"), json={"value": 5}) as resp:
                    assert resp.status == 400
        finally:
            await server.close()
            await client.close()


@pytest.mark.parametrize(("path", "body", "message"), [
    ("/kv/" + "k" * 257, b'{"value": 1}', "key must be"),
    ("/kv/a%2Fb", b'{"value": 1}', "key must be"),
    ("/kv/", b'{"value": 1}', "key must be"),
    ("/kv/k", b'{"value": ', "malformed JSON"),
    ("/kv/k", b'[1, 2]', "JSON object"),
    ("/kv/k", b'{"val": 1}', '"value"'),
    ("/kv/k", b'{"value": "' + b"x" * MAX_VALUE_BYTES + b'"}', "value larger"),
    ("/kv/k", b'{"value": "' + b"x" * (2 * MAX_VALUE_BYTES) + b'"}', "body too large"),
    ("/internal/kv/k", b'{"value": 1, "version": [1]}', "version must be"),
    ("/internal/kv/k", b'{"value": 1}', "version must be"),
])
async def test_bad_input_is_400_and_changes_nothing(tmp_path: Path, path: str, body: bytes,
                                                    message: str) -> None:
    async with inprocess_cluster(tmp_path, IDS, **QUORUM) as nodes, aiohttp.ClientSession() as s:
        async with s.put(f"{url(nodes, 'n1')}{path}", data=body) as resp:
            assert resp.status == 400
            assert message in (await resp.json())["error"]
        assert all(len(node.store) == 0 for node in nodes.values())


async def test_quorum_failures_map_to_503_with_definite(tmp_path: Path) -> None:
    async with inprocess_cluster(tmp_path, IDS, start=["n1"], **QUORUM) as nodes, \
            aiohttp.ClientSession() as s:
        async with s.put(f"{url(nodes, 'n1')}/kv/k", json={"value": 1}) as resp:
            assert resp.status == 503
            body = await resp.json()
        assert body["definite"] is True and "r=2" in body["error"]
        async with s.get(f"{url(nodes, 'n1')}/kv/k") as resp:
            assert resp.status == 503


async def test_weak_write_failure_is_indefinite(tmp_path: Path) -> None:
    # r=1: the version read succeeds on n1 alone; the write reaches n1 only.
    async with inprocess_cluster(tmp_path, IDS, start=["n1"], n=3, r=1, w=2,
                                 anti_entropy_interval=0) as nodes:
        with pytest.raises(QuorumError) as info:
            await nodes["n1"].driver.write("k", 1)
        assert not info.value.definite
        assert nodes["n1"].store.get("k") is not None


async def test_anti_entropy_exchange_moves_records_both_ways(tmp_path: Path) -> None:
    async with inprocess_cluster(tmp_path, IDS, **QUORUM) as nodes, aiohttp.ClientSession() as s:
        for node_id, key in (("n1", "only-on-1"), ("n2", "only-on-2")):
            async with s.put(f"{url(nodes, node_id)}/internal/kv/{key}",
                             json={"value": key, "version": [3, "x"]}) as resp:
                assert resp.status == 200
        assert await nodes["n1"].exchange_with("n2") == (1, 1)
        assert await nodes["n1"].exchange_with("n2") == (0, 0)  # nothing left to repair
        for node_id in ("n1", "n2"):
            assert {k for k, _ in nodes[node_id].store.items()} == {"only-on-1", "only-on-2"}
        assert len(nodes["n3"].store) == 0


async def test_anti_entropy_runs_on_its_own(tmp_path: Path) -> None:
    async with inprocess_cluster(tmp_path, IDS, n=3, r=2, w=2,
                                 anti_entropy_interval=0.05) as nodes:
        await nodes["n1"].store.put("k", '"v"', Version(1, "x"))
        for _ in range(100):
            if all(node.store.get("k") for node in nodes.values()):
                break
            await asyncio.sleep(0.05)
        assert all(node.store.get("k") for node in nodes.values())


async def test_anti_entropy_only_shares_keys_both_replicate(tmp_path: Path) -> None:
    ids = ["n1", "n2", "n3", "n4", "n5"]
    async with inprocess_cluster(tmp_path, ids, n=2, r=1, w=2,
                                 anti_entropy_interval=0) as nodes:
        coordinator = nodes["n1"]
        for i in range(40):
            await coordinator.driver.write(f"k{i}", i)
        for node_id in ids[1:]:
            await nodes["n1"].exchange_with(node_id)
        for node_id, node in nodes.items():
            for key, _ in node.store.items():
                assert node_id in node.driver.replicas(key)
