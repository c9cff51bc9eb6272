"""`quorumlab run --backend docker` end to end: verdicts, and nothing left behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest

from harness.backends.docker.resources import (
    OWNER_LABEL,
    RUN_LABEL,
    list_labelled,
    remove_labelled,
    resource_labels,
)
from harness.owner import Owner

pytestmark = [pytest.mark.docker, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]


def run_args(store: Path, *extra: str) -> list[str]:
    """5 nodes, 10 s, kills and partitions every ~2 s (the default nemesis)."""
    return [sys.executable, "-m", "harness", "run", "--backend", "docker", "--nodes", "5",
            "--time-limit", "10", "--nemesis-interval", "2", "--seed", "7",
            "--store-dir", str(store), *extra]


def run(store: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    proc = subprocess.run(run_args(store, *extra), cwd=REPO, capture_output=True, text=True,
                          timeout=240, env={**os.environ, "PYTHONPATH": str(REPO)})
    results = sorted(store.rglob("results.json"))
    assert results, proc.stderr[-2000:]
    return proc, json.loads(results[-1].read_text())


def test_correct_replica_is_valid_through_kills_and_partitions(
        docker_client: docker.DockerClient, replica_image: str, tmp_path: Path) -> None:
    # A bounded rate keeps the per-key linearizability search within its budget.
    proc, results = run(tmp_path, "--rate", "100")
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-2000:])
    assert results["valid"] is True
    nodes_dir = next(tmp_path.rglob("nodes"))
    assert sorted(p.name for p in nodes_dir.glob("*.log"))[:1] == ["n1.log"]


def test_early_ack_bug_is_caught_as_stale_reads(
        docker_client: docker.DockerClient, replica_image: str, tmp_path: Path) -> None:
    # One hot key, 20 workers, unbounded rate: many reads race the writes acknowledged
    # after w-1 copies (3 of 3 runs caught it while tuning; 8 keys caught 1 of 2).
    proc, results = run(tmp_path, "--replica-bug", "early-ack", "--keys", "1",
                        "--concurrency", "20")
    assert proc.returncode == 1, (proc.stdout[-2000:], proc.stderr[-2000:])
    assert results["valid"] is False
    kinds = {a["kind"] for r in results["checkers"]["results"] for a in r["anomalies"]}
    assert "stale-read" in kinds


def test_sigint_tears_down_every_labelled_resource(
        docker_client: docker.DockerClient, replica_image: str, tmp_path: Path) -> None:
    before = {c.labels[RUN_LABEL] for c in docker_client.containers.list(
        all=True, filters={"label": RUN_LABEL})}
    proc = subprocess.Popen(run_args(tmp_path, "--time-limit", "60"), cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    run_id = None
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            runs = {c.labels[RUN_LABEL] for c in docker_client.containers.list(
                filters={"label": RUN_LABEL})} - before
            run_id = run_id or next(iter(runs), None)
            histories = list(tmp_path.rglob("history.jsonl"))
            if run_id and histories and histories[0].stat().st_size > 2000:
                break  # the workload is under way
            time.sleep(0.2)
        assert run_id is not None, "the run never started its containers"
        assert proc.poll() is None, "the run ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=90)
        assert proc.returncode == 130, proc.stderr.read()[-2000:] if proc.stderr else ""
        assert list_labelled(docker_client, run_id) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if run_id is not None:
            remove_labelled(docker_client, run_id)


def owned_by(client: docker.DockerClient, pid: int, running: bool = False) -> list[str]:
    """Labelled containers, networks and volumes whose recorded owner is `pid`
    (with `running`, only its running containers)."""
    flt = {"label": OWNER_LABEL}
    containers = client.containers.list(all=not running, sparse=True, filters=flt)
    listings = [("container", containers)]
    if not running:
        listings += [("network", client.networks.list(filters=flt)),
                     ("volume", client.volumes.list(filters=flt))]
    found = []
    for kind, listing in listings:
        for resource in listing:
            owner = Owner.from_label(resource_labels(resource.attrs)[OWNER_LABEL])
            if owner is not None and owner.pid == pid:
                found.append(f"{kind} {resource.id[:12]}")
    return found


def running_containers(client: docker.DockerClient, pid: int) -> int:
    return len(owned_by(client, pid, running=True))


def test_a_sigkilled_run_is_swept_by_itself_and_a_live_one_beside_it_is_not(
        docker_client: docker.DockerClient, replica_image: str, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = ["--nodes", "3", "--time-limit", "90", "--nemesis", "none"]
    killed = subprocess.Popen(run_args(tmp_path / "killed", *args), cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    live_log = tmp_path / "live.log"
    with live_log.open("w") as log:
        live = subprocess.Popen(run_args(tmp_path / "live", *args), cwd=REPO, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not all(
                running_containers(docker_client, p.pid) == 3 for p in (killed, live)):
            assert killed.poll() is None and live.poll() is None, live_log.read_text()[-2000:]
            time.sleep(0.5)
        assert running_containers(docker_client, killed.pid) == 3, "the runs never started"
        killed.send_signal(signal.SIGKILL)  # no teardown runs: only the reaper can sweep
        killed.wait()
        swept_by = time.monotonic() + 30
        while owned_by(docker_client, killed.pid) and time.monotonic() < swept_by:
            time.sleep(0.5)
        assert owned_by(docker_client, killed.pid) == []
        assert live.poll() is None
        assert running_containers(docker_client, live.pid) == 3
        live.send_signal(signal.SIGINT)
        live.wait(timeout=90)
        assert live.returncode == 130, live_log.read_text()[-2000:]
        assert owned_by(docker_client, live.pid) == []
    finally:
        for proc in (killed, live):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
