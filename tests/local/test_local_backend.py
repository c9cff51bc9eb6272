"""The local backend against a stand-in replica started via --replica-cmd."""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from local_helpers import alive, get, group_members, network, wait_healthy

from harness.backends.base import ClusterSpec
from harness.backends.local import LocalBackend
from nemesis.capabilities import ClockControl, NetworkFaults, ProcessControl
from nemesis.driver import CHECK_EVENT, apply
from nemesis.kinds import KINDS

STANDIN = Path(__file__).with_name("standin.py")
STANDIN_CMD = (f"{sys.executable} {STANDIN} --id {{id}} --listen {{listen}} "
               "--peers {peers} --data-dir {data_dir}")
NODES = ("n1", "n2", "n3")

pytestmark = pytest.mark.slow


def spec_for(tmp_path: Path, **kw) -> ClusterSpec:
    kw.setdefault("replica_cmd", STANDIN_CMD)
    return ClusterSpec(run_id="t", run_dir=tmp_path, nodes=NODES, n=3, r=2, w=2, **kw)


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[tuple[LocalBackend, aiohttp.ClientSession]]:
    backend = LocalBackend(spec_for(tmp_path, extra_env={"STANDIN_CHILD": "1"}))
    try:
        await backend.setup()
        async with aiohttp.ClientSession() as session:
            await wait_healthy(backend, session)
            yield backend, session
    finally:
        await backend.teardown()


async def test_nodes_reach_each_other_through_proxies(cluster) -> None:
    backend, session = cluster
    status, body = await get(session, backend.public_url("n1") + "/ask/n2")
    assert (status, body) == (200, {"ok": "n2"})
    assert backend.client_url("n2") == backend.public_url("n2")
    assert (backend.spec.run_dir / "nodes" / "n1.log").exists()
    peers = backend._peers["n1"].split(",")
    assert f"n1=127.0.0.1:{backend._ports['n1']}" in peers
    assert f"n2=127.0.0.1:{backend._links.port('n1', 'n2')}" in peers


async def test_partition_blackholes_and_heal_restores(cluster) -> None:
    backend, session = cluster
    await network(backend).partition({"n1": {"n2"}, "n2": {"n1"}})
    started = time.monotonic()
    status, body = await get(session, backend.public_url("n1") + "/ask/n2?timeout=0.5")
    assert (status, body) == (504, {"error": "timeout"}), "a cut link hangs, it does not refuse"
    assert time.monotonic() - started >= 0.45
    assert (await get(session, backend.public_url("n1") + "/ask/n3"))[0] == 200
    assert (await get(session, backend.public_url("n2") + "/ask/n1?timeout=0.5"))[0] == 504
    await network(backend).heal()
    assert (await get(session, backend.public_url("n1") + "/ask/n2"))[0] == 200
    with pytest.raises(ValueError, match="unknown nodes: n9"):
        await network(backend).partition({"n1": {"n9"}})


async def test_oneway_partition_cuts_only_the_deaf_nodes_links(cluster) -> None:
    backend, session = cluster
    fault = KINDS["partition-oneway"].decide(NODES, random.Random(2), None)
    assert fault.grudge is not None
    (deaf,) = [a for a, dropped in fault.grudge.items() if dropped]
    talker, other = sorted(set(NODES) - {deaf})
    records: list[tuple[str, dict]] = []
    await apply(backend, fault, "start", lambda f, value: records.append((f, value)))
    ask = backend.public_url(deaf) + f"/ask/{talker}?timeout=0.5"
    assert (await get(session, ask))[0] == 504, "the deaf node hears nothing from a talker"
    # Over TCP the talker's own requests die too: the deaf node drops its handshake replies.
    assert (await get(session, backend.public_url(talker) + f"/ask/{deaf}?timeout=0.5"))[0] == 504
    assert (await get(session, backend.public_url(talker) + f"/ask/{other}"))[0] == 200
    await apply(backend, fault, "stop", lambda f, value: records.append((f, value)))
    assert (await get(session, ask))[0] == 200
    assert [f for f, _ in records] == ["start-partition", CHECK_EVENT, "stop-partition"]
    assert all("error" not in value for _, value in records)
    check = records[1][1]
    assert check["took_effect"] is True, check["wrong"]  # probed through the real proxies
    assert check["probes"] == len(NODES) * (len(NODES) - 1)


async def test_kill_and_start_keep_data(cluster) -> None:
    backend, session = cluster
    url = backend.public_url("n2")
    async with session.put(url + "/kv/k", json={"value": "v1"}) as reply:
        assert reply.status == 200
    pid = backend._nodes["n2"].pid
    await backend.kill("n2")
    assert not alive(pid)
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(session, url + "/health")
    reply = await get(session, backend.public_url("n1") + "/ask/n2")
    assert reply == (502, {"error": "refused"}), "a dead node refuses, through the proxy too"
    await network(backend).partition({"n1": {"n2"}})
    reply = await get(session, backend.public_url("n1") + "/ask/n2?timeout=0.3")
    assert reply == (504, {"error": "timeout"}), "but across a cut link it hangs"
    await network(backend).heal()
    await backend.start("n2")
    await backend.start("n2")  # no-op while running
    await wait_healthy(backend, session)
    assert (await get(session, url + "/kv/k"))[1]["value"] == "v1"
    assert backend._nodes["n2"].pid != pid
    assert "starting n2" in (backend.spec.run_dir / "nodes" / "n2.log").read_text()


async def test_pause_freezes_and_resume_thaws(cluster) -> None:
    backend, session = cluster
    url = backend.public_url("n3") + "/health"
    await backend.pause("n3")
    with pytest.raises(TimeoutError):
        await get(session, url, timeout=0.3)
    await backend.resume("n3")
    await backend.resume("n3")  # no-op
    assert (await get(session, url))[0] == 200


async def test_skew_clock_writes_offset_file(cluster) -> None:
    backend, _ = cluster
    await backend.skew_clock("n1", -2.5)
    assert float(backend.clock_file("n1").read_text()) == -2.5


async def test_teardown_leaves_no_process_and_is_idempotent(tmp_path: Path) -> None:
    backend = LocalBackend(spec_for(tmp_path, extra_env={"STANDIN_CHILD": "1"}))
    await backend.setup()
    await backend.kill("n1")
    await backend.start("n1")
    async with aiohttp.ClientSession() as session:
        await wait_healthy(backend, session)
    await backend.pause("n2")
    pids = {p.pid for p in backend._every_process}
    assert len(pids) == 4  # n1 twice
    members = group_members(pids)
    assert len(members) == 6, "three nodes, each with its sleep child"
    proxy_port = backend._links.port("n1", "n2")
    await backend.teardown()
    await backend.teardown()
    assert not any(alive(pid) for pid in members)
    assert group_members(pids) == []
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", proxy_port)


async def test_failed_setup_leaves_nothing(tmp_path: Path) -> None:
    # n1 and n2 have an interpreter under their own name, n3 has none
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for node in ("n1", "n2"):
        (bin_dir / node).symlink_to(sys.executable)
    cmd = STANDIN_CMD.replace(sys.executable, f"{bin_dir}/{{id}}")
    backend = LocalBackend(spec_for(tmp_path / "run", replica_cmd=cmd,
                                    extra_env={"STANDIN_CHILD": "1"}))
    with pytest.raises(RuntimeError, match="cannot start n3"):
        await backend.setup()
    started = {p.pid for p in backend._every_process}
    assert len(started) == 2
    assert group_members(started) == []
    assert backend._links.links == {}


def test_no_process_left_by_this_module() -> None:
    """Belt and braces: the test process has no live child left."""
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
    assert [int(c) for c in children if alive(int(c))] == []


HARNESS_SCRIPT = """
import asyncio, sys
from pathlib import Path
from harness.backends.base import ClusterSpec
from harness.backends.local import LocalBackend

async def main():
    spec = ClusterSpec(run_id="t", run_dir=Path(sys.argv[1]), nodes=("n1", "n2"), n=2, r=1,
                       w=2, replica_cmd=sys.argv[2])
    backend = LocalBackend(spec)
    await backend.setup()
    print(" ".join(map(str, backend.pids())), flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


async def test_nodes_die_with_a_killed_harness(tmp_path: Path) -> None:
    """A harness killed by SIGKILL gets no teardown; its nodes must die anyway."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HARNESS_SCRIPT, str(tmp_path), STANDIN_CMD,
        stdout=asyncio.subprocess.PIPE, cwd=Path(__file__).resolve().parents[2])
    try:
        assert proc.stdout is not None
        pids = [int(p) for p in (await asyncio.wait_for(proc.stdout.readline(), 10)).split()]
        assert len(pids) == 2 and all(alive(p) for p in pids)
    finally:
        proc.kill()
        await proc.wait()
    deadline = time.monotonic() + 5
    while any(alive(p) for p in pids):
        assert time.monotonic() < deadline, "a node outlived its harness"
        await asyncio.sleep(0.05)


async def test_without_proxies_the_backend_lacks_network_faults(tmp_path: Path) -> None:
    backend = LocalBackend(spec_for(tmp_path), proxies=False)
    assert backend.capability(NetworkFaults) is None
    assert isinstance(backend.capability(ProcessControl), ProcessControl)
    assert isinstance(backend.capability(ClockControl), ClockControl)
    records: list[tuple[str, dict]] = []
    fault = KINDS["partition-halves"].decide(NODES, random.Random(0), None)
    await apply(backend, fault, "start", lambda f, value: records.append((f, value)))
    assert records[0][0] == "start-partition"
    assert "offers no network faults" in records[0][1]["error"]
