"""A session from the shell, end to end on the local backend: up, put, fault, get,
heal, load, check, down, and nothing left behind; and a supervisor's death sweeps
what it owned."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import orjson
import pytest

from harness.session.state import SessionState
from tests.session.session_helpers import processes_mentioning, quorumlab, supervisors_stopped

pytestmark = pytest.mark.slow


def _session_folder(store: Path, name: str = "session") -> Path:
    return Path((store / ".clusters" / name).read_text().strip())


def _checker(folder: Path, name: str) -> dict | None:
    """What checker ``name`` said in the folder's results.json (None: it did not run)."""
    results = orjson.loads((folder / "results.json").read_bytes())["checkers"]["results"]
    return next((r for r in results if r["checker"] == name), None)


def _up(store: Path, *options: str) -> subprocess.CompletedProcess:
    """A 3-node local cluster, r = w = 2, that must come up."""
    up = quorumlab(store, "cluster", "up", "--backend", "local", "--nodes", "3", "--r", "2",
                   "--w", "2", *options)
    assert up.returncode == 0, up.stderr
    return up


def _history(folder: Path) -> list[dict]:
    return [orjson.loads(line) for line in (folder / "history.jsonl").read_bytes().splitlines()]


def test_a_session_from_up_to_down(tmp_path: Path) -> None:
    store = tmp_path / "histories"
    with supervisors_stopped(store):
        up = _up(store, "--seed", "3")
        assert "cluster session up" in up.stdout and "n3  http://127.0.0.1:" in up.stdout
        folder = _session_folder(store)
        assert processes_mentioning(str(folder)), "the supervisor and nodes run after up returns"

        put = quorumlab(store, "kv", "put", "k1", "hello")  # not JSON: taken as a string
        assert put.returncode == 0, put.stderr
        assert put.stdout.startswith('ok    k1 <- "hello"  version [')
        again = quorumlab(store, "kv", "put", "k1", '"hello"')
        assert again.returncode == 254 and "written before" in again.stderr

        cut = quorumlab(store, "fault", "partition-isolate", "n3")
        assert cut.returncode == 0, cut.stderr
        assert "n1,n2 | n3" in cut.stdout and "took effect" in cut.stdout
        alone = quorumlab(store, "kv", "get", "k1", "--node", "n3")
        assert alone.returncode == 1 and alone.stdout.startswith("fail")
        killed = quorumlab(store, "fault", "kill", "n2")
        assert killed.returncode == 0, killed.stderr

        status = quorumlab(store, "cluster", "status", "--json")
        assert status.returncode == 0, status.stderr
        answer = orjson.loads(status.stdout)
        states = {node["node"]: node["state"] for node in answer["nodes"]}
        assert states == {"n1": "up", "n2": "killed", "n3": "up"}
        assert [f["kind"] for f in answer["faults"]] == ["partition-isolate", "kill"]
        assert answer["ops"]["write"]["ok"] == 1 and answer["ops"]["read"]["fail"] == 1

        refused = quorumlab(store, "load", "--time-limit", "1", "--nemesis", "kill")
        assert refused.returncode == 254 and "fault heal` first" in refused.stderr

        healed = quorumlab(store, "fault", "heal")
        assert healed.returncode == 0, healed.stderr
        assert "partition-isolate" in healed.stdout and "kill n2" in healed.stdout
        get = quorumlab(store, "kv", "get", "k1", "--node", "n3")
        assert get.returncode == 0, get.stdout + get.stderr
        assert get.stdout.startswith('ok    k1 = "hello"')

        load = quorumlab(store, "load", "--time-limit", "3", "--concurrency", "4",
                         "--nemesis", "partition-halves", "--nemesis-interval", "0.5")
        assert load.returncode == 0, load.stderr
        assert "load done" in load.stdout
        check = quorumlab(store, "cluster", "check")
        assert check.returncode == 0, check.stdout + check.stderr
        results = orjson.loads((folder / "results.json").read_bytes())
        assert results["valid"] is True
        assert (folder / "report.html").stat().st_size > 0

        events = _history(folder)
        nemesis = [e["f"] for e in events if e["process"] == "nemesis"]
        # heal undoes faults in the reverse order of their application
        assert nemesis[:5] == ["start-partition", "check-fault", "kill", "start", "stop-partition"]
        assert "start-partition" in nemesis[5:], "the load's nemesis is in the history too"
        assert nemesis[-1] == "stop-partition", "and it healed what it started"
        workers = {e["process"] for e in events if isinstance(e["process"], int)
                   and e["process"] < 1_000_000}
        assert workers, "the load's ops are in the session's history"

        down = quorumlab(store, "cluster", "down")
        assert down.returncode == 0, down.stderr
        assert SessionState.read(folder).state == "down"
        assert not processes_mentioning(str(folder)), "nothing of the cluster outlives down"
        assert not Path(SessionState.read(folder).socket).exists()
        gone = quorumlab(store, "kv", "get", "k1")
        assert gone.returncode == 254 and "no live cluster" in gone.stderr


def test_the_supervisors_death_sweeps_its_nodes(tmp_path: Path) -> None:
    store = tmp_path / "histories"
    with supervisors_stopped(store):
        _up(store, "--name", "doomed")
        folder = _session_folder(store, "doomed")
        state = SessionState.read(folder)
        assert state.pid is not None and len(processes_mentioning(str(folder))) >= 4
        os.kill(state.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while processes_mentioning(str(folder)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not processes_mentioning(str(folder)), "the nodes die with their supervisor"

        status = quorumlab(store, "cluster", "status", "--name", "doomed")
        assert status.returncode == 255
        assert "supervisor" in status.stderr and "gone" in status.stderr
        down = quorumlab(store, "cluster", "down", "--name", "doomed")
        assert down.returncode == 0, down.stderr
        assert not (store / ".clusters" / "doomed").exists()


def test_check_final_judges_durability_and_leaves_the_cluster_up(tmp_path: Path) -> None:
    store = tmp_path / "histories"
    with supervisors_stopped(store):
        _up(store, "--seed", "5")
        folder = _session_folder(store)
        none_yet = quorumlab(store, "cluster", "check", "--final")
        assert none_yet.returncode == 254 and "no ops yet" in none_yet.stderr

        assert quorumlab(store, "kv", "put", "k1", "a").returncode == 0
        assert quorumlab(store, "fault", "kill", "n3").returncode == 0
        assert quorumlab(store, "kv", "put", "k2", "b").returncode == 0  # n3 misses it
        plain = quorumlab(store, "cluster", "check")
        assert plain.returncode == 0, plain.stdout + plain.stderr
        assert _checker(folder, "durability") is None, "no final reads yet: nothing to judge"

        final = quorumlab(store, "cluster", "check", "--final")
        assert final.returncode == 0, final.stdout + final.stderr
        assert "final phase: healed kill n3; replicas converged" in final.stdout
        assert "2 keys, 6 copies read (0 unanswered)" in final.stdout
        durability = _checker(folder, "durability")
        assert durability["valid"] is True and durability["details"]["converged"] is True
        events = _history(folder)
        copies = {(e["key"], e["node"]): e["value"] for e in events
                  if e["f"] == "final-read" and e["type"] == "ok"}
        assert copies == {("k1", "n1"): "a", ("k1", "n2"): "a", ("k1", "n3"): "a",
                          ("k2", "n1"): "b", ("k2", "n2"): "b", ("k2", "n3"): "b"}
        assert [e["f"] for e in events if e["process"] == "nemesis"] == ["kill", "start"]

        status = orjson.loads(quorumlab(store, "cluster", "status", "--json").stdout)
        assert {n["state"] for n in status["nodes"]} == {"up"}, "healed, and still up"
        assert quorumlab(store, "kv", "put", "k1", "c").returncode == 0
        later = quorumlab(store, "cluster", "check")  # c came after the final phase
        assert later.returncode == 0, later.stdout + later.stderr
        assert _checker(folder, "durability")["details"]["writes_after_final"] == 1
        assert quorumlab(store, "cluster", "down").returncode == 0
        assert not processes_mentioning(str(folder))


def test_check_final_catches_writes_lost_on_restart(tmp_path: Path) -> None:
    store = tmp_path / "histories"
    with supervisors_stopped(store):
        _up(store, "--replica-bug", "amnesia")
        assert quorumlab(store, "kv", "put", "k1", "a").returncode == 0
        assert quorumlab(store, "fault", "kill", "all").returncode == 0
        final = quorumlab(store, "cluster", "check", "--final")
        assert final.returncode == 1, final.stdout + final.stderr
        assert "1 key, 3 copies read" in final.stdout
        durability = _checker(_session_folder(store), "durability")
        assert [a["kind"] for a in durability["anomalies"]] == ["lost-write"]
        assert quorumlab(store, "cluster", "down").returncode == 0
