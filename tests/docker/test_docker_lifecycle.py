"""A cluster of containers: reachable, faultable, and gone after teardown.

Nodes here run a stand-in (`python3 -m http.server` serving the data volume) so
these tests exercise the backend's mechanisms independently of the replica.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import docker
import pytest
from conftest import MakeCluster
from docker_helpers import connect_ms, exec_out, wait_cluster, wait_http

from harness.backends.docker.resources import RUN_LABEL, list_labelled
from harness.owner import Owner
from nemesis.driver import CHECK_EVENT, apply
from nemesis.kinds import KINDS

pytestmark = [pytest.mark.docker, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]


async def test_cluster_serves_on_loopback_and_labels_everything(
        make_cluster: MakeCluster, docker_client: docker.DockerClient) -> None:
    backend = await make_cluster(size=3)
    await wait_cluster(backend)
    urls = [backend.public_url(n) for n in backend.spec.nodes]
    assert all(u.startswith("http://127.0.0.1:") for u in urls)
    assert len(set(urls)) == 3
    assert backend.client_url("n2") == backend.public_url("n2")
    resources = list_labelled(docker_client, backend.spec.run_id)
    assert sum(r.startswith("container ") for r in resources) == 3
    assert sum(r.startswith("network ") for r in resources) == 1
    assert sum(r.startswith("volume ") for r in resources) == 3
    for node in backend.spec.nodes:  # published on 127.0.0.1 only
        container = docker_client.containers.get(backend.container_name(node))
        bindings = container.attrs["HostConfig"]["PortBindings"]["8000/tcp"]
        assert [b["HostIp"] for b in bindings] == ["127.0.0.1"]
        assert container.labels[RUN_LABEL] == backend.spec.run_id


async def test_partition_blackholes_peers_and_heal_restores(make_cluster: MakeCluster) -> None:
    backend = await make_cluster(size=3)
    await wait_cluster(backend)
    assert await connect_ms(backend, "n1", "n2") is not None
    await backend.partition({"n2": {"n1"}})
    assert await connect_ms(backend, "n1", "n2", count=1, timeout=0.5) is None
    assert await connect_ms(backend, "n2", "n1", count=1, timeout=0.5) is None  # replies die
    assert await connect_ms(backend, "n1", "n3") is not None
    assert await connect_ms(backend, "n3", "n2") is not None
    await wait_http(backend.public_url("n2"))  # the controller is never cut off
    await backend.heal()
    assert await connect_ms(backend, "n1", "n2") is not None
    rules = await exec_out(backend, "n2", ["iptables", "-S"])
    assert "-A INPUT -j QUORUMLAB" in rules  # heal flushed our chain, kept the hook
    assert "DROP" not in rules


async def test_oneway_partition_drops_only_what_the_deaf_node_receives(
        make_cluster: MakeCluster) -> None:
    backend = await make_cluster(size=3)
    await wait_cluster(backend)
    fault = KINDS["partition-oneway"].decide(backend.spec.nodes, random.Random(2), None)
    assert fault.grudge is not None
    (deaf,) = [a for a, dropped in fault.grudge.items() if dropped]
    talker, other = sorted(set(backend.spec.nodes) - {deaf})
    records: list[tuple[str, dict]] = []
    await apply(backend, fault, "start", lambda f, value: records.append((f, value)))
    deaf_rules = await exec_out(backend, deaf, ["iptables", "-S", "QUORUMLAB"])
    assert {f"-s {backend.node_ip(n)}/32 -j DROP" for n in (talker, other)} <= {
        line.split("QUORUMLAB ", 1)[-1] for line in deaf_rules.splitlines()}
    assert "DROP" not in await exec_out(backend, talker, ["iptables", "-S", "QUORUMLAB"])
    assert await connect_ms(backend, deaf, talker, count=1, timeout=0.5) is None
    assert await connect_ms(backend, talker, other) is not None
    await apply(backend, fault, "stop", lambda f, value: records.append((f, value)))
    assert await connect_ms(backend, deaf, talker) is not None
    assert [f for f, _ in records] == ["start-partition", CHECK_EVENT, "stop-partition"]
    assert all("error" not in value for _, value in records)
    check = records[1][1]  # probed from inside each node's namespace
    assert check["took_effect"] is True, check["wrong"]
    assert check["probes"] == 6


async def test_a_partition_the_rules_do_not_enforce_is_reported_as_not_taking_effect(
        make_cluster: MakeCluster) -> None:
    backend = await make_cluster(size=3)
    await wait_cluster(backend)
    fault = KINDS["partition-isolate"].decide(backend.spec.nodes, random.Random(0), None)
    records: list[tuple[str, dict]] = []
    await apply(backend, fault, "start", lambda f, value: records.append((f, value)))
    for node in backend.spec.nodes:  # someone flushed the harness's chain behind its back
        await exec_out(backend, node, ["iptables", "-F", "QUORUMLAB"])
    check = await KINDS["partition-isolate"].check(backend, fault)
    assert check["took_effect"] is False
    assert any("answered though cut" in wrong for wrong in check["wrong"])
    await apply(backend, fault, "stop", lambda f, value: records.append((f, value)))


async def test_delay_raises_inter_node_latency_by_what_was_asked(
        make_cluster: MakeCluster) -> None:
    backend = await make_cluster(size=3)
    await wait_cluster(backend)
    base = await connect_ms(backend, "n1", "n2", count=9)
    assert base is not None and base < 30
    await backend.set_link_delay(40.0)
    delayed = await connect_ms(backend, "n1", "n2", count=9)
    # A TCP connect is one round trip: 40 ms each way (some slack for a loaded CI box).
    assert delayed is not None and 75 <= delayed - base <= 140, (base, delayed)
    await wait_http(backend.public_url("n1"))  # controller traffic is not delayed
    await backend.clear_link_delay()
    cleared = await connect_ms(backend, "n1", "n2", count=9)
    assert cleared is not None and cleared < 30
    await backend.set_link_delay(0.0, loss=1.0)
    assert await connect_ms(backend, "n1", "n2", count=1, timeout=0.5) is None
    await backend.clear_link_delay()
    assert await connect_ms(backend, "n1", "n2") is not None


async def test_kill_and_start_keep_data_and_faults(make_cluster: MakeCluster) -> None:
    backend = await make_cluster(size=3)
    await wait_cluster(backend)
    await exec_out(backend, "n1", ["sh", "-c", "echo kept > /data/marker"])
    await backend.partition({"n1": {"n3"}})
    await backend.kill("n1")
    await backend.kill("n1")  # idempotent
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientError):
            await session.get(backend.public_url("n1"), timeout=aiohttp.ClientTimeout(total=2))
    await backend.start("n1")
    await backend.start("n1")  # no-op when running
    await wait_http(backend.public_url("n1") + "/marker")
    async with aiohttp.ClientSession() as session, \
            session.get(backend.public_url("n1") + "/marker") as resp:
        assert (await resp.text()).strip() == "kept"
    # The restarted namespace got the partition back.
    assert await connect_ms(backend, "n3", "n1", count=1, timeout=0.5) is None
    assert await connect_ms(backend, "n2", "n1") is not None


async def test_pause_freezes_and_resume_thaws(make_cluster: MakeCluster) -> None:
    backend = await make_cluster(size=3)
    await wait_cluster(backend)
    await backend.pause("n2")
    async with aiohttp.ClientSession() as session:
        with pytest.raises(TimeoutError):
            await session.get(backend.public_url("n2"), timeout=aiohttp.ClientTimeout(total=1))
    await backend.partition({"n2": {"n1"}})  # lands when n2 thaws
    await backend.resume("n2")
    await backend.resume("n2")
    await wait_http(backend.public_url("n2"))
    assert await connect_ms(backend, "n1", "n2", count=1, timeout=0.5) is None
    await backend.pause("n3")  # a frozen node can still be killed and started
    await backend.kill("n3")
    await backend.start("n3")
    await wait_http(backend.public_url("n3"))


async def test_skew_clock_writes_the_offset_file_running_or_killed(
        make_cluster: MakeCluster) -> None:
    backend = await make_cluster(size=3)
    await wait_cluster(backend)
    await backend.skew_clock("n3", -2.5)
    assert (await exec_out(backend, "n3", ["cat", "/data/clock-offset"])).strip() == "-2.5"
    await backend.kill("n3")
    await backend.skew_clock("n3", 7.0)
    await backend.start("n3")
    assert (await exec_out(backend, "n3", ["cat", "/data/clock-offset"])).strip() == "7.0"


async def test_teardown_and_cleanup_leave_nothing_labelled(
        make_cluster: MakeCluster, docker_client: docker.DockerClient) -> None:
    torn = await make_cluster(size=3)
    await torn.teardown()
    await torn.teardown()  # safe twice
    assert list_labelled(docker_client, torn.spec.run_id) == []
    assert (torn.spec.run_dir / "nodes" / "n1.log").is_file()
    leaked = await make_cluster(size=3)  # as if the harness had crashed
    assert list_labelled(docker_client, leaked.spec.run_id)
    proc = subprocess.run([sys.executable, "-m", "harness", "cleanup", "--run", leaked.spec.run_id],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "3 containers, 1 networks, 3 volumes removed" in proc.stdout
    assert list_labelled(docker_client, leaked.spec.run_id) == []


async def test_a_dead_owners_cluster_is_reaped_and_a_live_one_survives_cleanup(
        make_cluster: MakeCluster, docker_client: docker.DockerClient) -> None:
    live = await make_cluster(size=2)
    keeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        owner = Owner.of(keeper.pid)
        assert owner is not None
        orphan = await make_cluster(size=2, owner=owner)  # a cluster this process keeps
        await wait_cluster(orphan)
        await asyncio.sleep(3)  # a reaper pass or more: a live owner's run stays
        assert len(list_labelled(docker_client, orphan.spec.run_id)) == 5
    finally:
        keeper.kill()
        keeper.wait()
    deadline = time.monotonic() + 30
    while list_labelled(docker_client, orphan.spec.run_id) and time.monotonic() < deadline:
        await asyncio.sleep(0.5)
    assert list_labelled(docker_client, orphan.spec.run_id) == []  # the reaper, unasked
    proc = subprocess.run([sys.executable, "-m", "harness", "cleanup"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert len(list_labelled(docker_client, live.spec.run_id)) == 5  # 2 + 1 + 2: untouched
    await wait_cluster(live)


async def test_setup_failing_halfway_still_tears_down_everything(
        docker_client: docker.DockerClient, replica_image: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import uuid

    from harness.backends.base import ClusterSpec
    from harness.backends.docker import DockerBackend
    from harness.backends.docker.resources import remove_labelled

    create = DockerBackend._create

    async def create_fails_for_n2(self: DockerBackend, member, network: str) -> None:
        if member.node == "n2":
            raise RuntimeError("create failed")
        await create(self, member, network)

    monkeypatch.setattr(DockerBackend, "_create", create_fails_for_n2)
    spec = ClusterSpec(run_id=f"test-{uuid.uuid4().hex[:10]}", run_dir=tmp_path,
                       nodes=("n1", "n2", "n3"), n=3, r=2, w=2)
    backend = DockerBackend(spec, image=replica_image, client=docker_client)
    try:
        with pytest.raises(RuntimeError, match="create failed"):
            await backend.setup()
        await backend.teardown()  # n2 has no container; n1 and n3 may still be landing
        assert list_labelled(docker_client, spec.run_id) == []
        await asyncio.sleep(1)
        assert list_labelled(docker_client, spec.run_id) == []
    finally:
        remove_labelled(docker_client, spec.run_id)
