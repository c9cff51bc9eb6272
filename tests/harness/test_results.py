"""The one writer of results (results.json, plots, report.html) and the terminal
summary, both from the typed outcome."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
from rich.console import Console

import harness.results
from checkers.api import Report
from checkers.history import NEMESIS, Event
from checkers.result import Anomaly, CheckResult
from harness.config import RunConfig
from harness.outcome import RunOutcome
from harness.results import write_results
from harness.run_folder import create_run_folder
from harness.summary import print_summary
from nemesis.driver import CHECK_EVENT

EXPLANATION = "read #3 (k) returned version [1,n1] but write #1 (k) had been acknowledged"


def events() -> list[Event]:
    return [
        Event(0, 0, 0, "invoke", "write", key="k", value="0-1"),
        Event(1, 1_500_000_000, NEMESIS, "info", "start-partition", value={"kind": "x"}),
        Event(2, 2_000_000_000, 0, "ok", "write", key="k", value="0-1", version=(1, "n1")),
        Event(3, 3_000_000_000, NEMESIS, "info", "stop-partition", value={"kind": "x"}),
    ]


def invalid_outcome(tmp_path: Path) -> RunOutcome:
    anomaly = Anomaly("stale-read", "k", EXPLANATION, ops=[3, 1])
    report = Report([CheckResult("graph", False, [anomaly]), CheckResult("stats", True)])
    return RunOutcome(folder=create_run_folder(tmp_path, "t"), run_id="ql-1",
                      verdict=report.verdict, report=report, phases={"check": 0.1})


def test_results_json_report_and_plots_from_the_typed_outcome(tmp_path: Path) -> None:
    outcome = invalid_outcome(tmp_path)
    write_results(RunConfig(name="t"), outcome, events())
    folder = outcome.folder.path
    results = orjson.loads((folder / "results.json").read_bytes())
    assert results["valid"] is False and results["run_id"] == "ql-1"
    assert results["checkers"]["results"][0]["anomalies"][0]["explanation"] == EXPLANATION
    page = (folder / "report.html").read_text()
    assert "INVALID" in page and "stale-read" in page and EXPLANATION in page
    assert page.count("src='data:image/png;base64,") == 2, "both plots embedded"
    assert "http://" not in page and "https://" not in page and "<script" not in page
    assert "#1f77b4'>&#9632;</span> x</td>" in page  # the fault's row, tab:blue, as plotted
    assert f"quorumlab run --replay {folder} --backend auto" in page
    assert (folder / "latency.png").stat().st_size > 0
    assert (folder / "throughput.png").stat().st_size > 0


def test_the_report_names_faults_that_did_not_take_effect(tmp_path: Path) -> None:
    outcome = invalid_outcome(tmp_path)
    check = Event(4, 1_600_000_000, NEMESIS, "info", CHECK_EVENT, value={
        "kind": "partition-halves", "took_effect": False, "probes": 20,
        "wrong": ["n1->n3 answered though cut"]})
    recorded = events()
    write_results(RunConfig(name="t"), outcome, [*recorded[:2], check, *recorded[2:]])
    page = (outcome.folder.path / "report.html").read_text()
    assert "1 faults probed" in page and "1 did not take effect" in page
    assert "<b>no</b></span>: n1-&gt;n3 answered though cut" in page


def test_a_run_stopped_before_any_event_gets_results_only(tmp_path: Path) -> None:
    outcome = RunOutcome(folder=create_run_folder(tmp_path, "t"), run_id="ql-2",
                         incomplete=True, error="interrupted")
    write_results(RunConfig(name="t"), outcome, [])
    results = orjson.loads((outcome.folder.path / "results.json").read_bytes())
    assert results["incomplete"] is True and results["checkers"] is None
    assert not (outcome.folder.path / "report.html").exists()


def test_a_plot_failure_keeps_the_verdict(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object) -> list[Path]:
        raise RuntimeError("no display")

    monkeypatch.setattr(harness.results, "plot_run", broken)
    outcome = invalid_outcome(tmp_path)
    write_results(RunConfig(name="t"), outcome, events())
    assert orjson.loads((outcome.folder.path / "results.json").read_bytes())["valid"] is False


def test_summary_names_the_verdict_each_checker_and_the_anomaly(tmp_path: Path) -> None:
    console = Console(record=True, width=200)
    outcome = invalid_outcome(tmp_path)
    print_summary(console, outcome, RunConfig(name="t", seed=7))
    text = console.export_text()
    assert re.search(r"graph +│ INVALID +│ 1 stale-read", text), text
    assert re.search(r"stats +│ VALID +│ -", text)
    assert f"stale-read (graph): {EXPLANATION}" in text
    assert "t: INVALID  seed=7" in text
    assert not (outcome.folder.path / "results.json").exists(), "printing writes no file"
