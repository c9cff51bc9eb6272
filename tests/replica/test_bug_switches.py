"""Every bug switch changes behaviour the way its description says, on real node
processes; each test runs the same scenario with the switch off and on."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from replica_cluster import ProcessCluster

pytestmark = pytest.mark.slow

IDS = ["n1", "n2", "n3"]
NO_ANTI_ENTROPY = ("--anti-entropy-interval", "0")


def bug_args(bug: str, on: bool) -> tuple[str, ...]:
    return ("--bug", bug) if on else ()


async def put(session: aiohttp.ClientSession, url: str, key: str, value: Any) -> tuple[int, Any]:
    async with session.put(f"{url}/kv/{key}", json={"value": value}) as resp:
        return resp.status, await resp.json()


async def get(session: aiohttp.ClientSession, url: str, key: str) -> Any:
    async with session.get(f"{url}/kv/{key}") as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def own_copy(session: aiohttp.ClientSession, url: str, key: str) -> Any:
    async with session.get(f"{url}/internal/kv/{key}") as resp:
        return await resp.json()


@pytest.fixture
async def session() -> aiohttp.ClientSession:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as s:
        yield s


@pytest.mark.parametrize("on", [False, True])
async def test_no_read_repair_skips_the_write_back(tmp_path: Path, session: Any,
                                                   on: bool) -> None:
    with ProcessCluster(tmp_path, IDS, n=3, r=2, w=2,
                        args=(*NO_ANTI_ENTROPY, *bug_args("no-read-repair", on))) as c:
        c.start_all()
        async with session.put(f"{c.urls['n1']}/internal/kv/k",
                               json={"value": "new", "version": [5, "x"]}) as resp:
            assert resp.status == 200
        # n1 answers itself first, so the read sees the newer value only n1 holds.
        assert (await get(session, c.urls["n1"], "k"))["value"] == "new"
        holders = [node for node in IDS
                   if (await own_copy(session, c.urls[node], "k"))["version"] == [5, "x"]]
        assert holders == ["n1"] if on else len(holders) >= 2


@pytest.mark.parametrize("on", [False, True])
async def test_early_ack_acknowledges_short_of_w(tmp_path: Path, session: Any,
                                                 on: bool) -> None:
    # Only n1 runs; r=1 lets the version read succeed, w=2 needs a second ack.
    with ProcessCluster(tmp_path, IDS, n=3, r=1, w=2,
                        args=("--allow-weak-quorum", *NO_ANTI_ENTROPY,
                              *bug_args("early-ack", on))) as c:
        c.start("n1")
        status, body = await put(session, c.urls["n1"], "k", "v")
        if on:
            assert status == 200
        else:
            assert status == 503 and body["definite"] is False  # n1 does hold it


@pytest.mark.parametrize("on", [False, True])
async def test_local_version_loses_writes_of_a_stale_coordinator(tmp_path: Path,
                                                                 session: Any,
                                                                 on: bool) -> None:
    with ProcessCluster(tmp_path, IDS, n=3, r=2, w=2,
                        args=(*NO_ANTI_ENTROPY, *bug_args("local-version", on))) as c:
        c.start("n1")
        c.start("n2")
        assert (await put(session, c.urls["n1"], "k", "a"))[0] == 200
        assert (await put(session, c.urls["n1"], "k", "b"))[0] == 200
        c.start("n3")  # missed both writes
        status, body = await put(session, c.urls["n3"], "k", "c")
        assert status == 200  # acknowledged either way
        assert body["version"][0] == (1 if on else 3)
        assert (await get(session, c.urls["n1"], "k"))["value"] == ("b" if on else "c")


@pytest.mark.parametrize("on", [False, True])
async def test_wall_clock_loses_writes_under_skew(tmp_path: Path, session: Any,
                                                  on: bool) -> None:
    skew = tmp_path / "n1.offset"
    skew.write_text("-3600\n")  # n1 lives an hour in the past
    with ProcessCluster(tmp_path, IDS, n=3, r=2, w=2,
                        args=(*NO_ANTI_ENTROPY, *bug_args("wall-clock", on))) as c:
        c.start("n1", "--clock-offset-file", str(skew))
        c.start("n2")
        c.start("n3")
        _, first = await put(session, c.urls["n2"], "k", "earlier")
        assert (await put(session, c.urls["n1"], "k", "later"))[0] == 200
        if on:
            assert abs(first["version"][0] - time.time() * 1e6) < 60e6  # microseconds now
        assert (await get(session, c.urls["n3"], "k"))["value"] == ("earlier" if on else "later")


@pytest.mark.parametrize("on", [False, True])
async def test_async_commit_loses_acknowledged_writes_on_crash(tmp_path: Path,
                                                               session: Any,
                                                               on: bool) -> None:
    with ProcessCluster(tmp_path, ["n1"], n=1, r=1, w=1,
                        args=bug_args("async-commit", on)) as c:
        c.start("n1")
        keys = [f"k{i}" for i in range(20)]
        for key in keys:
            assert (await put(session, c.urls["n1"], key, key))[0] == 200
        c.kill("n1")  # well within the one-second flush interval of the last write
        c.start("n1")
        present = [key for key in keys
                   if (await own_copy(session, c.urls["n1"], key))["value"] == key]
        if on:
            assert len(present) < len(keys)
        else:
            assert present == keys


@pytest.mark.parametrize("on", [False, True])
async def test_amnesia_forgets_everything_on_restart(tmp_path: Path, session: Any,
                                                     on: bool) -> None:
    with ProcessCluster(tmp_path, ["n1"], n=1, r=1, w=1) as c:
        c.start("n1")
        assert (await put(session, c.urls["n1"], "k", "v"))[0] == 200
        c.kill("n1")
        c.start("n1", *bug_args("amnesia", on))
        assert (await get(session, c.urls["n1"], "k"))["value"] == (None if on else "v")
