"""`quorumlab matrix`: rows run for real, measured from their run folders."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.matrix import DEFAULT_ROWS, Row, RowSummary, RunMeasure, markdown_table
from harness.matrix_command import selected_rows

REPO = Path(__file__).resolve().parents[2]


def measure(verdict: bool | None, first: float | None = None) -> RunMeasure:
    return RunMeasure(folder="f", seed=1, verdict=verdict,
                      checkers_fired=("graph",) if verdict is False else (),
                      kinds={"stale-read": 2} if verdict is False else {},
                      first_anomaly_s=first, ok_per_s=500.0, ok_per_s_in_faults=0.0)


def test_a_bug_row_is_as_expected_when_caught_and_a_correct_row_only_when_never_accused() -> None:
    bug, correct = Row("early-ack", bugs=("early-ack",)), Row("correct")
    assert RowSummary(bug, (measure(True), measure(False, 3.0))).as_expected
    assert not RowSummary(bug, (measure(True), measure(True))).as_expected
    assert RowSummary(correct, (measure(True), measure(True))).as_expected
    assert not RowSummary(correct, (measure(True), measure(False, 1.0))).as_expected
    assert not RowSummary(correct, (measure(True), measure(None))).as_expected  # no verdict
    summary = RowSummary(bug, (measure(False, 2.0), measure(False, 6.0), measure(True)))
    assert summary.detected == 2 and summary.first_anomaly() == (4.0, 6.0)
    table = markdown_table([summary, RowSummary(correct, (measure(False, 1.0),))])
    assert "| early-ack | default | coordinator | 2/3 | graph | stale-read 4 | 4.0 / 6.0 |" in table
    assert "| **1/1** |" in table  # a false alarm stands out
    assert "| 500 | 0 |" in table  # zero ops during faults is a figure, not a blank


def test_rows_are_selected_by_name_and_unknown_names_refused() -> None:
    assert [r.name for r in selected_rows("amnesia,correct", None)] == ["correct", "amnesia"]
    assert all(r.nemesis == "kill" for r in selected_rows(None, "kill"))
    assert len(selected_rows(None, None)) == len(DEFAULT_ROWS)
    with pytest.raises(ValueError, match="unknown row"):
        selected_rows("early-ack,bogus", None)


def test_garage_rows_run_only_when_named_and_its_weak_modes_are_expected_caught() -> None:
    assert not any(r.options.get("system") == "garage" for r in selected_rows(None, None))
    rows = {r.name: r for r in selected_rows("garage-consistent-clock,garage-dangerous",
                                              "partition-isolate")}
    assert set(rows) == {"garage-consistent-clock", "garage-dangerous"}
    assert all(r.nemesis == "partition-isolate" for r in rows.values())
    assert rows["garage-dangerous"].expects_anomaly  # kept through --nemesis
    assert not rows["garage-consistent-clock"].expects_anomaly
    assert rows["garage-dangerous"].options["system_opts"]["consistency"] == "dangerous"


@pytest.mark.slow
def test_a_smoke_matrix_clears_the_correct_replica_and_catches_local_version(
        tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "matrix", "--runs", "1", "--time-limit", "6",
         "--bugs", "correct,local-version", "--seed", "11", "--nemesis-interval", "2",
         "--store-dir", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-2000:]
    matrix = json.loads(next(tmp_path.rglob("matrix.json")).read_text())
    rows = {row["row"]: row for row in matrix["rows"]}
    assert matrix["nemesis_interval"] == 2.0
    for config in tmp_path.rglob("config.json"):  # every run took the interval
        assert json.loads(config.read_text())["config"]["nemesis_interval"] == 2.0
    assert rows["correct"]["detected"] == 0 and rows["correct"]["as_expected"]
    assert rows["local-version"]["detected"] == 1
    assert rows["local-version"]["first_anomaly_median_s"] is not None
    assert "| correct | all | coordinator | 0/1 |" in proc.stdout
    assert (next(tmp_path.rglob("matrix.md"))).read_text().count("\n| ") == 3


def test_bad_matrix_arguments_are_one_line_exit_254() -> None:
    for args in (["--runs", "0"], ["--bugs", "nope"], ["--time-limit", "-1"],
                 ["--nemesis-interval", "0"]):
        proc = subprocess.run([sys.executable, "-m", "harness", "matrix", *args], cwd=REPO,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 254, args
        assert proc.stderr.count("\n") == 1 and "error" in proc.stderr, args
