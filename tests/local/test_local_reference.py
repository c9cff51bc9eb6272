"""The local backend running the reference replica, in both client modes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from local_helpers import get, group_members, network, put, wait_healthy

from harness.backends.base import ClusterSpec
from harness.backends.local import LocalBackend

pytest.importorskip("replica.agent")
pytestmark = pytest.mark.slow

NODES = ("n1", "n2", "n3")


Cluster = tuple[LocalBackend, aiohttp.ClientSession]


@pytest.fixture(params=["coordinator", "client"])
async def cluster(request, tmp_path: Path) -> AsyncIterator[Cluster]:
    backend = LocalBackend(ClusterSpec(
        run_id="t", run_dir=tmp_path, nodes=NODES, n=3, r=2, w=2, mode=request.param,
        request_timeout=0.3, anti_entropy_interval=0.2))
    try:
        await backend.setup()
        async with aiohttp.ClientSession() as session:
            urls = {backend.public_url(n) for n in NODES} | {backend.client_url(n) for n in NODES}
            await wait_healthy(backend, session, sorted(urls))
            yield backend, session
    finally:
        pids = {p.pid for p in backend._every_process}
        await backend.teardown()
        assert group_members(pids) == []


async def internal_value(session: aiohttp.ClientSession, backend: LocalBackend, node: str,
                         key: str):
    return (await get(session, f"{backend.public_url(node)}/internal/kv/{key}"))[1]["value"]


async def test_kill_and_start_keep_a_replicas_data(cluster) -> None:
    backend, session = cluster
    assert (await put(session, backend.client_url("n1") + "/kv/k", "v1"))[0] == 200
    deadline = time.monotonic() + 5
    while await internal_value(session, backend, "n2", "k") != "v1":
        assert time.monotonic() < deadline, "the write never reached n2"
    await backend.kill("n2")
    await backend.start("n2")
    await wait_healthy(backend, session, [backend.public_url("n2")])
    assert await internal_value(session, backend, "n2", "k") == "v1"
    assert (await get(session, backend.client_url("n3") + "/kv/k"))[1]["value"] == "v1"


async def test_isolated_home_cannot_reach_a_quorum(cluster) -> None:
    backend, session = cluster
    assert (await put(session, backend.client_url("n1") + "/kv/k", "before"))[0] == 200
    await network(backend).partition({"n1": {"n2", "n3"}, "n2": {"n1"}, "n3": {"n1"}})
    started_at = time.monotonic()
    status, _ = await put(session, backend.client_url("n1") + "/kv/k", "cut")
    assert status == 503, "clients at an isolated node cannot reach a write quorum"
    assert time.monotonic() - started_at >= 0.25, "the cut link hung until the timeout"
    assert (await put(session, backend.client_url("n2") + "/kv/k", "majority"))[0] == 200
    await network(backend).heal()
    assert (await put(session, backend.client_url("n1") + "/kv/k", "healed"))[0] == 200
    assert (await get(session, backend.client_url("n3") + "/kv/k"))[1]["value"] == "healed"


async def test_majority_paused_then_resumed(cluster) -> None:
    backend, session = cluster
    await backend.pause("n2")
    await backend.pause("n3")
    status, _ = await put(session, backend.client_url("n1") + "/kv/k", "frozen")
    assert status == 503
    await backend.resume("n2")
    await backend.resume("n3")
    assert (await put(session, backend.client_url("n1") + "/kv/k", "thawed"))[0] == 200
