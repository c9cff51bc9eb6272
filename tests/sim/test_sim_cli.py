"""`quorumlab sim` end to end: byte-identical histories per seed (across
processes with different hash seeds), the run folder, --replay of a saved
schedule, and one-line errors with exit 254 for bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

from checkers.formats import load_history

REPO = Path(__file__).resolve().parents[2]


def sim(*args: str, store: Path, hash_seed: str = "0") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    return subprocess.run([sys.executable, "-m", "harness", "sim", "--store-dir", str(store),
                           *args], capture_output=True, text=True, cwd=REPO, env=env,
                          timeout=240)


def test_same_seed_same_history_bytes_in_other_processes(tmp_path: Path) -> None:
    outputs = []
    for hash_seed in ("1", "2"):
        store = tmp_path / hash_seed
        done = sim("--replica-bug", "wall-clock", "--seed", "4", "--examples", "300",
                   store=store, hash_seed=hash_seed)
        assert done.returncode == 1, done.stderr
        run = (store / "sim" / "latest").resolve()
        outputs.append(((run / "history.jsonl").read_bytes(),
                        (run / "schedule.json").read_bytes(), done.stdout.split("sim: ")[0]))
    assert outputs[0] == outputs[1]
    assert outputs[0][0]  # a history was written


def test_a_found_anomaly_is_told_saved_and_replayed_exactly(tmp_path: Path) -> None:
    done = sim("--replica-bug", "async-commit", "--seed", "3", "--name", "ac", store=tmp_path)
    assert done.returncode == 1, done.stderr
    assert "minimal failing schedule:" in done.stdout
    assert "anomaly: " in done.stdout
    run = (tmp_path / "ac" / "latest").resolve()
    for name in ("config.json", "schedule.json", "history.jsonl", "results.json",
                 "report.html", "story.txt"):
        assert (run / name).is_file(), name
    results = orjson.loads((run / "results.json").read_bytes())
    assert results["valid"] is False
    page = (run / "report.html").read_text()
    assert f"quorumlab sim --replay {run / 'schedule.json'}" in page  # not `run --replay`
    assert "href='story.txt'" in page and "virtual time" in page
    assert load_history(run / "history.jsonl", "jsonl").ops  # the checkers' own reader

    replayed = sim("--replay", str(run / "schedule.json"), "--name", "again", store=tmp_path)
    assert replayed.returncode == 1, replayed.stderr
    again = (tmp_path / "again" / "latest").resolve()
    assert (again / "history.jsonl").read_bytes() == (run / "history.jsonl").read_bytes()
    assert "replayed schedule:" in replayed.stdout

    quorumlab_check = subprocess.run(
        [sys.executable, "-m", "harness", "check", str(again)], capture_output=True,
        text=True, cwd=REPO, timeout=120)
    assert quorumlab_check.returncode == 1  # the same checkers, from the file alone


def test_one_schedule_of_the_correct_replica_is_valid(tmp_path: Path) -> None:
    done = sim("--examples", "1", "--seed", "5", store=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "sim" / "latest" / "history.jsonl").stat().st_size > 0


def test_bad_input_is_one_line_and_254(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "something else"}')
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    older = tmp_path / "older.json"  # would run, but not to the history it was saved with
    older.write_text('{"format": "quorumlab-sim-schedule/1", "nodes": 3}')
    for args in (["--replica-bug", "nope"], ["--examples", "0"], ["--nemesis", "flood"],
                 ["--replay", str(bad)], ["--replay", str(broken)], ["--replay", str(older)],
                 ["--replay", str(tmp_path / "missing.json")]):
        done = sim(*args, store=tmp_path)
        assert done.returncode == 254, (args, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("quorumlab sim: error:"), done.stderr
