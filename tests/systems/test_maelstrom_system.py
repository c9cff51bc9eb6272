"""Maelstrom programs under the harness: the network's kill, pause and init, a
correct lin-kv program passing under partitions, a wrong one caught."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from system_helpers import latest_run, quorumlab

from harness.backends.base import ClusterSpec
from harness.systems.maelstrom.client import MaelstromClient
from harness.systems.maelstrom.network import MaelstromNetwork

HERE = Path(__file__).parent
LEADER, LOCAL = HERE / "lin_kv_leader.py", HERE / "lin_kv_local.py"


@contextlib.asynccontextmanager
async def leader_cluster(tmp_path: Path,
                         op_timeout: float) -> AsyncIterator[tuple[MaelstromNetwork,
                                                                   MaelstromClient]]:
    """Three nodes of the leader program, initialised; torn down after."""
    spec = ClusterSpec(run_id="t", run_dir=tmp_path, nodes=("n1", "n2", "n3"), n=3, r=2, w=2)
    net = MaelstromNetwork(spec, [sys.executable, str(LEADER)])
    client = MaelstromClient(net, op_timeout)
    await net.setup()
    try:
        await client.ready(10)
        yield net, client
    finally:
        await net.teardown()


async def test_kill_forgets_memory_and_start_sends_init_again(tmp_path: Path) -> None:
    async with leader_cluster(tmp_path, op_timeout=2.0) as (net, client):
        assert (await client.write("n2", "k", "v1")).type == "ok"  # via n1
        assert (await client.read("n3", "k")).value == "v1"
        await net.kill("n1")
        assert (await client.write("n2", "k", "v2")).type == "info"  # n1 is gone
        await net.start("n1")
        await client.ready(10)
        read = await client.read("n2", "k")
        assert read.type == "ok" and read.value is None  # its memory went with it
    log = (tmp_path / "nodes" / "n1.log").read_text()
    assert log.count("starting n1") == 2 and log.count("n1 initialised") == 2
    assert "not JSON on stdout: lin-kv leader program starting" in log


async def test_pause_holds_replies_until_resume(tmp_path: Path) -> None:
    async with leader_cluster(tmp_path, op_timeout=0.5) as (net, client):
        await net.pause("n1")
        assert (await client.write("n1", "k", "v")).type == "info"
        assert (await client.read("n1", "k")).type == "fail"
        await net.resume("n1")
        read = await client.read("n1", "k")
        assert read.type == "ok" and read.value == "v"  # the paused write applied later
        assert client.statistics()["late_replies"] == 2


def run_program(tmp_path: Path, program: Path, *extra: str) -> tuple[int, list[dict], dict]:
    proc = quorumlab("run", "--system", "maelstrom", "--system-opt", f"bin={sys.executable}",
                     "--system-opt", f"args={program}", "--nodes", "3", "--r", "2", "--w", "2",
                     "--time-limit", "4", "--nemesis", "partition-halves,partition-isolate",
                     "--nemesis-interval", "0.7", "--seed", "11", "--store-dir", str(tmp_path),
                     *extra)
    events, results = latest_run(tmp_path)
    return proc.returncode, events, results


@pytest.mark.slow
def test_a_program_forwarding_to_one_leader_passes_under_partitions(tmp_path: Path) -> None:
    status, events, results = run_program(tmp_path, LEADER, "--cas-ratio", "0.25")
    assert status == 0, results
    done = {(e["f"], e["type"]) for e in events if e["process"] != "final"}
    assert {("read", "ok"), ("write", "ok"), ("cas", "ok"), ("cas", "fail")} <= done
    assert any(e["f"] == "start-partition" for e in events)
    stats = results["system"]
    assert stats["dropped"]["partition"] > 0
    assert stats["server_by_type"]["forward"] >= stats["server_by_type"]["forward_ok"] > 0
    assert stats["not_messages"] == {"n1": 1, "n2": 1, "n3": 1}
    assert 0 < stats["server_messages_per_op"] < 2


@pytest.mark.slow
def test_a_program_serving_reads_from_local_state_is_caught(tmp_path: Path) -> None:
    status, _, results = run_program(tmp_path, LOCAL)
    assert status == 1
    [lin] = [r for r in results["checkers"]["results"] if r["checker"] == "linearizability"]
    assert lin["valid"] is False
    assert lin["anomalies"][0]["kind"] == "nonlinearizable"


async def test_answers_says_which_links_a_fault_cut(tmp_path: Path) -> None:
    async with leader_cluster(tmp_path, op_timeout=0.5) as (net, client):
        assert await net.answers("n1", ["n2", "n3"]) == {"n2": True, "n3": True}
        await net.partition({"n3": frozenset({"n1"})})  # one way: n3 drops n1's messages
        assert await net.answers("n1", ["n2", "n3"]) == {"n2": True, "n3": False}
        assert await net.answers("n3", ["n1"]) == {"n1": False}  # no round trip either way
        assert (await client.write("n3", "k", "v")).type == "info"  # n3 -> n1 -> lost reply
        await net.heal()
        await net.pause("n2")
        assert await net.answers("n1", ["n2", "n3"]) == {"n2": False, "n3": True}
