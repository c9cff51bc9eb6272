"""`quorumlab run --schedule FILE`: a simulated schedule driven through a real
local cluster, faults in order, reported as reproduced or not."""

from __future__ import annotations

import subprocess
from pathlib import Path

import orjson
import pytest

from checkers.history import NEMESIS
from sim.schedule import ClientOp, FaultEvent, Schedule
from tests.integration.run_helpers import (
    REPO,
    processes_mentioning,
    quorumlab_command,
    quorumlab_env,
)

pytestmark = pytest.mark.slow


def test_a_schedule_drives_a_real_cluster_in_order(tmp_path: Path) -> None:
    schedule = Schedule(
        nodes=3, keys=1, delays_ms=(5.0,),
        clients=((ClientOp(0.0, "write", 0), ClientOp(400.0, "read", 0)),
                 (ClientOp(50.0, "read", 0),)),
        faults=(FaultEvent(at_ms=100.0, kind="partition-isolate", duration_ms=200.0, seed=3),))
    path = tmp_path / "schedule.json"
    schedule.save(path)
    store = tmp_path / "store"
    proc = subprocess.run(quorumlab_command(store, "--schedule", str(path), "--name", "real"),
                          capture_output=True, text=True, timeout=180, env=quorumlab_env(),
                          cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "reproduced: no (the real history is valid)" in proc.stdout
    assert "left out: the first 1 messages' exact delays" in proc.stderr
    run = (store / "real" / "latest").resolve()
    events = [orjson.loads(line) for line in (run / "history.jsonl").read_bytes().splitlines()]
    ops = [(e["process"], e["f"]) for e in events if e["type"] == "invoke"
           and e["process"] not in (NEMESIS, "final")]
    assert ops == [(0, "write"), (1, "read"), (0, "read")]  # in the schedule's order
    faults = [e["f"] for e in events if e["process"] == NEMESIS and e["f"] != "check-fault"]
    assert faults == ["start-partition", "stop-partition"]
    isolated = next(e for e in events if e["f"] == "start-partition")["value"]
    decided = schedule.faults[0]
    assert isolated["kind"] == decided.kind
    assert orjson.loads((run / "results.json").read_bytes())["valid"] is True
    assert processes_mentioning(str(store)) == []


def test_a_bad_schedule_is_one_line_and_254(tmp_path: Path) -> None:
    path = tmp_path / "schedule.json"
    path.write_text('{"format": "quorumlab-sim-schedule/2", "nodes": 0}')
    proc = subprocess.run(quorumlab_command(tmp_path, "--schedule", str(path)),
                          capture_output=True, text=True, timeout=60, env=quorumlab_env(),
                          cwd=REPO)
    assert proc.returncode == 254
    assert proc.stderr.strip().startswith("quorumlab run: error: --schedule:")
    assert len(proc.stderr.strip().splitlines()) == 1
