"""The nemesis driving the local backend with the reference replica: every
fault kind applies and heals, and the cluster serves again afterwards."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest
from local_helpers import get, group_members, put, wait_healthy

from harness.backends.base import ClusterSpec
from harness.backends.local import LocalBackend
from nemesis.driver import drive
from nemesis.kinds import scheduled_kinds
from nemesis.schedule import Schedule

pytest.importorskip("replica.agent")
pytestmark = pytest.mark.slow

NODES = ("n1", "n2", "n3", "n4", "n5")


async def test_every_fault_kind_applies_and_heals(tmp_path: Path) -> None:
    backend = LocalBackend(ClusterSpec(run_id="t", run_dir=tmp_path, nodes=NODES, n=5, r=3,
                                       w=3, request_timeout=0.3, anti_entropy_interval=0.2))
    records: list[tuple[str, dict]] = []
    try:
        await backend.setup()
        async with aiohttp.ClientSession() as session:
            await wait_healthy(backend, session)
            schedule = Schedule(scheduled_kinds(), list(NODES), 0.15, seed=224)  # all by ~2.2 s
            stop = asyncio.Event()
            t0 = time.monotonic()
            nemesis = asyncio.create_task(drive(
                backend, schedule, lambda f, v: records.append((f, v)), stop,
                lambda: time.monotonic() - t0))
            await asyncio.sleep(5)
            stop.set()
            await asyncio.wait_for(nemesis, 10)
            await backend.heal_all()
            await wait_healthy(backend, session)
            assert (await put(session, backend.public_url("n1") + "/kv/k", "after"))[0] == 200
            assert (await get(session, backend.public_url("n5") + "/kv/k"))[1]["value"] == "after"
    finally:
        pids = {p.pid for p in backend._every_process}
        await backend.teardown()
    assert group_members(pids) == []
    fs = [f for f, _ in records]
    assert {"kill", "start", "pause", "resume", "start-partition", "stop-partition",
            "start-delay", "stop-delay", "skew-clock", "reset-clock"} <= set(fs)
    assert {v["kind"] for _, v in records} == set(scheduled_kinds())
    assert [v for _, v in records if "error" in v] == []
    assert len(fs) % 2 == 0, "the driver healed the fault it left running"
