"""Acceptance: `quorumlab run --backend local` on the reference replica, correct
and with each bug switch; no process survives a run, even an interrupted one."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from checkers.history import FINAL_READ, QUIESCE
from tests.integration.run_helpers import (
    REPO,
    anomaly_kinds,
    latest_run,
    processes_mentioning,
    quorumlab_command,
    quorumlab_env,
    run_quorumlab,
)

pytestmark = pytest.mark.slow

PARTITIONS = "partition-halves,partition-isolate,partition-ring,partition-bridge"


def assert_no_leftovers(store: Path) -> None:
    assert processes_mentioning(str(store)) == []


@pytest.mark.parametrize("mode", ["coordinator", "client"])
def test_correct_replica_is_valid_under_kills_and_partitions(tmp_path: Path, mode: str) -> None:
    code, results = run_quorumlab(tmp_path, "--mode", mode, "--time-limit", "12",
                                  "--nemesis", f"kill,{PARTITIONS}", "--nemesis-interval", "2",
                                  "--seed", "11")
    assert code == 0, results
    assert results["valid"] is True
    assert anomaly_kinds(results) == set()
    history = (latest_run(tmp_path) / "history.jsonl").read_bytes().splitlines()
    fs = {orjson.loads(line)["f"] for line in history}
    assert {"kill", "start-partition", FINAL_READ, QUIESCE} <= fs
    assert_no_leftovers(tmp_path)


def test_early_ack_is_caught_as_stale_read(tmp_path: Path) -> None:
    # One hot key, many workers: a lossy link leaves the early-acknowledged
    # write on too few replicas while other nodes read.
    code, results = run_quorumlab(tmp_path, "--replica-bug", "early-ack", "--time-limit", "25",
                                  "--nemesis", "delay,partition-ring", "--nemesis-interval", "2",
                                  "--keys", "1", "--concurrency", "20", "--seed", "2")
    assert code == 1
    assert "stale-read" in anomaly_kinds(results)
    assert_no_leftovers(tmp_path)


def test_fewer_replicas_than_nodes_is_valid(tmp_path: Path) -> None:
    code, results = run_quorumlab(tmp_path, "--nodes", "5", "--n", "3", "--r", "2", "--w", "2",
                                  "--time-limit", "10", "--nemesis", f"kill,{PARTITIONS}",
                                  "--nemesis-interval", "2", "--seed", "6")
    assert code == 0, results
    assert_no_leftovers(tmp_path)


def test_weak_quorum_is_caught(tmp_path: Path) -> None:
    code, results = run_quorumlab(tmp_path, "--r", "1", "--w", "1", "--allow-weak-quorum",
                                  "--time-limit", "12", "--nemesis", PARTITIONS,
                                  "--nemesis-interval", "2", "--keys", "3", "--seed", "4")
    assert code == 1
    assert results["valid"] is False
    assert_no_leftovers(tmp_path)


@pytest.mark.parametrize("bug", ["amnesia", "async-commit"])
def test_forgetting_acknowledged_writes_is_caught_when_every_node_crashes(
        tmp_path: Path, bug: str) -> None:
    # Killing only a majority is not enough on the local backend: the killed
    # nodes come back one at a time, and each is read-repaired from a survivor
    # before a quorum of forgetful nodes exists. Killing all at once is.
    code, results = run_quorumlab(tmp_path, "--replica-bug", bug, "--time-limit", "15",
                                  "--nemesis", "kill", "--nemesis-targets", "all",
                                  "--nemesis-interval", "2", "--keys", "2", "--concurrency", "15",
                                  "--seed", "1")
    assert code == 1
    assert anomaly_kinds(results) & {"lost-write", "stale-read"}
    assert_no_leftovers(tmp_path)


def test_no_read_repair_is_caught(tmp_path: Path) -> None:
    # Lossy links leave a write on one or two replicas for a while; without the
    # write-back a read can see it and a later one miss it.
    code, results = run_quorumlab(tmp_path, "--replica-bug", "no-read-repair",
                                  "--time-limit", "20", "--nemesis", "delay",
                                  "--nemesis-interval", "4", "--keys", "1", "--read-ratio", "0.8",
                                  "--concurrency", "16", "--anti-entropy-interval", "5",
                                  "--seed", "2")
    assert code == 1
    assert anomaly_kinds(results) & {"non-monotonic-read", "stale-read"}
    assert_no_leftovers(tmp_path)


def interrupt_run(store: Path, ready: Callable[[], bool]) -> tuple[int, bytes]:
    """Start a 60 s run, SIGINT it once `ready()` holds; (exit code, stderr)."""
    proc = subprocess.Popen(quorumlab_command(store, "--time-limit", "60", "--seed", "9"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=quorumlab_env(),
                            cwd=REPO)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not ready():
            time.sleep(0.02)
        assert ready(), "the run never got that far"
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert b"Traceback" not in stderr
    return proc.returncode, stderr


def test_sigint_tears_down_and_keeps_the_history(tmp_path: Path) -> None:
    def recording() -> bool:
        runs = list(tmp_path.glob("quorumlab/2*/history.jsonl"))
        return bool(runs) and runs[0].stat().st_size > 2000

    code, stderr = interrupt_run(tmp_path, recording)
    assert code == 130, stderr.decode()[-2000:]
    history = latest_run(tmp_path) / "history.jsonl"
    results = orjson.loads((history.parent / "results.json").read_bytes())
    assert results["incomplete"] is True and results["error"] == "interrupted"
    assert len(history.read_bytes().splitlines()) > 20
    assert_no_leftovers(tmp_path)


def test_sigint_during_setup_exits_130_with_nothing_left(tmp_path: Path) -> None:
    code, stderr = interrupt_run(
        tmp_path, lambda: bool(list(tmp_path.glob("quorumlab/2*/config.json"))))
    assert code == 130, stderr.decode()[-2000:]
    results = orjson.loads((latest_run(tmp_path) / "results.json").read_bytes())
    assert results["incomplete"] is True
    assert_no_leftovers(tmp_path)
