"""A user's replica image on the docker backend (--replica-image), end to end.

The image is not the reference one: built here FROM it, with the reference
replica started by an entrypoint of its own (told its place by the QUORUMLAB_*
variables), and without a shell, iptables or tc, so every fault must go
through the backend's sidecar."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import orjson
import pytest

from harness.backends.docker.resources import list_labelled
from harness.session.state import SessionState
from tests.session.session_helpers import quorumlab, supervisors_stopped

pytestmark = [pytest.mark.docker, pytest.mark.slow]
pytest_plugins = ["pytester"]
REPO = Path(__file__).resolve().parents[2]

DOCKERFILE = """\
ARG BASE
FROM ${BASE}
COPY start-node /usr/local/bin/start-node
RUN chmod 755 /usr/local/bin/start-node \\
    && rm -f /usr/sbin/iptables* /usr/sbin/ip6tables* /usr/sbin/xtables* /usr/sbin/tc /sbin/tc
RUN ["/bin/rm", "-f", "/bin/sh", "/bin/dash", "/bin/bash", "/usr/bin/sh", "/usr/bin/dash", \
     "/usr/bin/bash"]
ENTRYPOINT ["/usr/local/bin/start-node"]
"""

START_NODE = """\
#!/opt/quorumlab/bin/python
import os, sys
env = os.environ
flags = ["--id", env["QUORUMLAB_ID"], "--listen", env["QUORUMLAB_LISTEN"],
         "--peers", env["QUORUMLAB_PEERS"], "--data-dir", env["QUORUMLAB_DATA_DIR"],
         "--n", env["QUORUMLAB_N"], "--r", env["QUORUMLAB_R"], "--w", env["QUORUMLAB_W"],
         "--clock-offset-file", env["QUORUMLAB_CLOCK_OFFSET_FILE"]]
print("started by start-node", file=sys.stderr, flush=True)
os.execv(sys.executable, [sys.executable, "-m", "replica", *flags])
"""

TEMPLATE = ("/opt/quorumlab/bin/python -m replica --id {id} --listen {listen} --peers {peers} "
            "--data-dir {data_dir} --n {n} --r {r} --w {w}")


@pytest.fixture(scope="module")
def own_image(docker_client: docker.DockerClient, replica_image: str,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    context = tmp_path_factory.mktemp("own-image")
    (context / "Dockerfile").write_text(DOCKERFILE)
    (context / "start-node").write_text(START_NODE)
    tag = f"quorumlab-test-own-replica:{uuid.uuid4().hex[:8]}"
    docker_client.images.build(path=str(context), tag=tag, buildargs={"BASE": replica_image},
                               rm=True, forcerm=True)
    try:
        yield tag
    finally:
        docker_client.images.remove(tag, force=True)


def test_the_image_has_no_shell_and_no_fault_tools(docker_client: docker.DockerClient,
                                                   own_image: str) -> None:
    probe = "import shutil; print([shutil.which(t) for t in ('sh', 'iptables', 'tc')])"
    out = docker_client.containers.run(own_image, ["-c", probe], remove=True,
                                       entrypoint="/opt/quorumlab/bin/python")
    assert out.decode().strip() == "[None, None, None]"


def test_a_session_on_the_users_image_takes_every_fault(
        tmp_path: Path, docker_client: docker.DockerClient, own_image: str) -> None:
    store = tmp_path / "histories"
    with supervisors_stopped(store):
        up = quorumlab(store, "cluster", "up", "--backend", "docker", "--nodes", "3",
                       "--replica-image", own_image, timeout=300)
        assert up.returncode == 0, up.stderr
        folder = Path((store / ".clusters" / "session").read_text().strip())
        run_id = SessionState.read(folder).run_id
        nodes = docker_client.containers.list(
            filters={"label": [f"quorumlab.run={run_id}", "quorumlab.role=node"]})
        assert {c.image.tags[0] for c in nodes} == {own_image}
        assert all(b"started by start-node" in c.logs() for c in nodes), "its own entrypoint"

        assert quorumlab(store, "kv", "put", "k1", "a").returncode == 0
        cut = quorumlab(store, "fault", "partition-isolate", "n1")
        assert cut.returncode == 0 and "took effect" in cut.stdout, cut.stdout + cut.stderr
        alone = quorumlab(store, "kv", "get", "k1", "--node", "n1")
        assert alone.returncode == 1, "n1 alone has no read quorum"
        for fault in (("delay", "50ms"), ("clock-skew", "n2", "-30s"), ("kill", "n3")):
            applied = quorumlab(store, "fault", *fault)
            assert applied.returncode == 0, applied.stdout + applied.stderr
        skewed = docker_client.containers.get(f"quorumlab-{run_id}-n2-net")
        assert skewed.exec_run(["cat", "/data/clock-offset"]).output.decode().strip() == "-30.0"

        final = quorumlab(store, "cluster", "check", "--final", timeout=300)
        assert final.returncode == 0, final.stdout + final.stderr
        assert "replicas converged" in final.stdout and "(0 unanswered)" in final.stdout
        # The killed node came back in a new namespace; its sidecar followed it there.
        again = quorumlab(store, "fault", "partition-isolate", "n3")
        assert again.returncode == 0 and "took effect" in again.stdout, again.stdout
        assert quorumlab(store, "fault", "heal").returncode == 0
        assert quorumlab(store, "cluster", "down").returncode == 0
        assert list_labelled(docker_client, run_id) == []


def test_a_run_starts_the_users_image_with_the_template(
        tmp_path: Path, docker_client: docker.DockerClient, own_image: str) -> None:
    store = tmp_path / "histories"
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "run", "--backend", "docker", "--nodes", "3",
         "--replica-image", own_image, "--replica-cmd", TEMPLATE, "--time-limit", "8",
         "--nemesis", "partition-halves,kill,pause", "--nemesis-interval", "1.5",
         "--seed", "11", "--store-dir", str(store)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    [history] = store.rglob("history.jsonl")
    events = [orjson.loads(line) for line in history.read_bytes().splitlines()]
    checks = [e["value"] for e in events if e["f"] == "check-fault"]
    assert checks and all(c["took_effect"] for c in checks)
    stored = orjson.loads((history.parent / "config.json").read_bytes())
    assert stored["config"]["replica_image"] == own_image
    logs = sorted((history.parent / "nodes").glob("n*.log"))
    assert len(logs) == 3 and all(b"serving on" in log.read_bytes() for log in logs)
    assert not any(b"start-node" in log.read_bytes() for log in logs), \
        "the template replaced the image's entrypoint"
    assert list_labelled(docker_client, stored["run_id"]) == []


def test_an_image_the_daemon_lacks_is_a_one_line_error(tmp_path: Path,
                                                        docker_client: docker.DockerClient
                                                        ) -> None:
    for command in (["run"], ["cluster", "up"]):
        proc = subprocess.run(
            [sys.executable, "-m", "harness", *command, "--backend", "docker",
             "--replica-image", "quorumlab-no-such-image:0", "--store-dir", str(tmp_path)],
            cwd=REPO, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 254, (command, proc.stderr)
        assert proc.stderr.count("\n") == 1 and "no such image" in proc.stderr


def test_the_plugins_fixture_takes_the_users_image(pytester: pytest.Pytester,
                                                   own_image: str) -> None:
    pytester.makepyfile(
        "import pytest\n"
        f"@pytest.mark.quorumlab(nodes=3, replica_image={own_image!r})\n"
        "def test_mine(quorumlab_cluster, quorumlab_run, assert_valid):\n"
        "    assert_valid(quorumlab_run(quorumlab_cluster, time_limit=4,\n"
        "                               nemesis='partition-halves', nemesis_interval=1))\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--quorumlab-backend=docker",
                                           f"--quorumlab-store-dir={pytester.path / 'runs'}")
    result.assert_outcomes(passed=1)
    [config] = (pytester.path / "runs").rglob("config.json")
    assert orjson.loads(config.read_bytes())["config"]["replica_image"] == own_image
