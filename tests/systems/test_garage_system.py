"""Garage on the docker backend: the cluster bootstraps itself and serves; its
dangerous mode, under a scenario (isolate a node, write on the others, read
from the isolated one), gives a stale read the checkers reject; libfaketime's
offset file moves a node's clock, as Garage's own timestamps show.

These need the garage binary, which takes 7 to 15 minutes to build: they skip
without it (bench/garage.sh builds it and runs them)."""

from __future__ import annotations

import asyncio
import email.utils
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import docker
import docker.errors
import pytest
from system_helpers import latest_run, quorumlab

from checkers.api import check
from checkers.formats import load_history
from harness.backends.base import ClusterSpec
from harness.config import RunConfig
from harness.recorder import Recorder
from harness.systems.garage.binary import built_binary
from harness.systems.garage.client import GarageClient
from harness.systems.garage.system import GarageBackend
from replica.delivery import new_session

pytestmark = [pytest.mark.garage, pytest.mark.docker, pytest.mark.slow]


@pytest.fixture(scope="module", autouse=True)
def garage_and_docker() -> None:
    if built_binary() is None:
        pytest.skip("the garage binary is not built (7-15 min): run "
                    "`quorumlab image build --system garage` or bench/garage.sh")
    try:
        docker.from_env(timeout=10).ping()
    except docker.errors.DockerException as exc:
        pytest.skip(f"no Docker daemon answers ({str(exc).splitlines()[0]})")


@pytest.fixture
async def garage(request: pytest.FixtureRequest,
                 tmp_path: Path) -> AsyncIterator[tuple[RunConfig, GarageBackend]]:
    """A started 3-node cluster in the consistency mode the test names (indirect)."""
    config = RunConfig(system="garage", nodes=3, backend="docker", op_timeout=2.0,
                       system_opts={"consistency": request.param})
    config.validate()
    spec = ClusterSpec(run_id=f"ql-{uuid.uuid4().hex[:10]}", run_dir=tmp_path,
                       nodes=config.node_ids, n=3, r=2, w=2)
    backend = config.make_system().create_backend("docker", spec)
    assert isinstance(backend, GarageBackend)
    try:
        await backend.setup()
        yield config, backend
    finally:
        await backend.teardown()


def test_the_cluster_bootstraps_itself_and_serves_reads_and_writes(tmp_path: Path) -> None:
    proc = quorumlab("run", "--system", "garage", "--nodes", "3", "--nemesis", "none",
                     "--time-limit", "5", "--seed", "3", "--store-dir", str(tmp_path),
                     timeout=600)
    assert proc.returncode == 0, proc.stderr
    events, results = latest_run(tmp_path)
    written = {e["value"] for e in events if e["f"] == "write" and e["type"] == "ok"}
    read = {e.get("value") for e in events if e["f"] == "read" and e["type"] == "ok"
            and e["process"] != "final"}
    assert written and read & written  # reads saw writes made through other nodes too
    assert results["valid"] is True


@pytest.mark.parametrize("garage", ["dangerous"], indirect=True)
async def test_dangerous_mode_serves_a_stale_read_from_an_isolated_node(
        garage: tuple[RunConfig, GarageBackend], tmp_path: Path) -> None:
    config, backend = garage
    recorder = Recorder(tmp_path / "history.jsonl")
    try:
        async with new_session() as session:
            client = config.make_system().client(backend, session, config)
            assert isinstance(client, GarageClient)
            await client.ready(60)
            urls = dict(client.homes())
            recorder.start_clock()

            async def op(process: int, f: str, node: str, value: str | None = None) -> str:
                recorder.record(process, "invoke", f, key="k", value=value, node=node)
                outcome = await (client.write(urls[node], "k", value) if f == "write"
                                 else client.read(urls[node], "k"))
                recorder.record(process, outcome.type, f, key="k", node=node,
                                value=value if f == "write" else outcome.value,
                                error=outcome.error)
                return outcome.type

            assert await op(0, "write", "n1", "v0") == "ok"
            await backend.partition({"n3": frozenset({"n1", "n2"}), "n1": frozenset({"n3"}),
                                     "n2": frozenset({"n3"})})
            assert await op(1, "write", "n1", "v1") == "ok"  # a quorum of one: n1 itself
            assert await op(2, "read", "n3", None) == "ok"  # n3 answers from its own copy
    finally:
        recorder.close()
    report = check(load_history(tmp_path / "history.jsonl", "jsonl"))
    assert report.verdict is False
    events = load_history(tmp_path / "history.jsonl", "jsonl").events
    invoked, answered = (e for e in events if e.process == 2)
    assert answered.value in ("v0", None)  # older than v1, acknowledged before the read began
    anomalies = [a for r in report.to_dict()["results"] if r["checker"] == "linearizability"
                 for a in r["anomalies"]]
    assert any(invoked.index in a["ops"] for a in anomalies), anomalies  # the stale read


@pytest.mark.parametrize("garage", ["consistent"], indirect=True)
async def test_the_offset_file_moves_a_garage_nodes_clock(
        garage: tuple[RunConfig, GarageBackend]) -> None:
    config, backend = garage
    skew_s = 600.0  # under S3's 15-minute limit on a request's signed date
    async with new_session() as session:
        client = config.make_system().client(backend, session, config)
        assert isinstance(client, GarageClient)
        await client.ready(60)
        urls = dict(client.homes())

        async def stamp(node: str, key: str) -> float:
            """Write through ``node``; the object's Last-Modified, read through n1:
            the timestamp the coordinator's clock gave the write."""
            assert (await client.write(urls[node], key, "x")).type == "ok"
            reply = await client.request("HEAD", urls["n1"], key)
            assert reply.status == 200, reply
            return email.utils.parsedate_to_datetime(reply.headers["Last-Modified"]).timestamp()

        assert abs(await stamp("n2", "before") - time.time()) < 60
        await backend.skew_clock("n2", skew_s)
        for attempt in range(20):  # libfaketime re-reads the file within a second
            moved = await stamp("n2", f"after-{attempt}") - time.time()
            if moved > skew_s / 2:
                break
            await asyncio.sleep(0.5)
        assert abs(moved - skew_s) < 60, moved
        assert abs(await stamp("n1", "elsewhere") - time.time()) < 60  # n1's clock is true
