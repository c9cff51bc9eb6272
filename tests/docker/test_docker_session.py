"""A session on the docker backend: the supervisor owns the containers, and when it
is SIGKILLed the reaper removes them (the owner label names the supervisor)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import docker
import pytest

from harness.owner import Owner
from harness.session.state import SessionState
from tests.session.session_helpers import quorumlab, supervisors_stopped

pytestmark = [pytest.mark.docker, pytest.mark.slow]
SWEEP_S = 60


def _labelled(client: docker.DockerClient, run_id: str) -> int:
    label = {"label": f"quorumlab.run={run_id}"}
    return (len(client.containers.list(all=True, filters=label))
            + len(client.networks.list(filters=label)) + len(client.volumes.list(filters=label)))


def test_a_docker_session_is_swept_when_its_supervisor_dies(
        tmp_path: Path, docker_client: docker.DockerClient, replica_image: str) -> None:
    store = tmp_path / "histories"
    with supervisors_stopped(store):
        up = quorumlab(store, "cluster", "up", "--backend", "docker", "--nodes", "3", "--r", "2",
                       "--w", "2", timeout=300)
        assert up.returncode == 0, up.stderr
        state = SessionState.read(Path((store / ".clusters" / "session").read_text().strip()))
        owners = {c.labels["quorumlab.owner"] for c in docker_client.containers.list(
            all=True, filters={"label": f"quorumlab.run={state.run_id}"})}
        assert owners == {state.owner}, "the supervisor, not `cluster up`, owns the containers"
        assert Owner.from_label(state.owner).alive()

        assert quorumlab(store, "kv", "put", "k1", "1").returncode == 0
        cut = quorumlab(store, "fault", "partition-isolate", "n1")
        assert cut.returncode == 0 and "took effect" in cut.stdout, cut.stdout + cut.stderr
        assert quorumlab(store, "kv", "get", "k1", "--node", "n1").returncode == 1

        os.kill(state.pid, signal.SIGKILL)
        deadline = time.monotonic() + SWEEP_S
        while _labelled(docker_client, state.run_id) and time.monotonic() < deadline:
            time.sleep(1)
        assert _labelled(docker_client, state.run_id) == 0, "the reaper sweeps a dead owner's run"
        assert quorumlab(store, "cluster", "down").returncode == 254  # no live one to find
        assert quorumlab(store, "cluster", "down", "--name", "session").returncode == 0
