"""Checking a finished run and telling the user what was found."""

from __future__ import annotations

import logging
import time

from rich.console import Console

from checkers.api import check
from checkers.formats import load_history
from harness.config import RunConfig
from harness.plots import plot_run
from harness.report import write_report
from harness.runner import RunOutcome

log = logging.getLogger("quorumlab")

SHOWN_ANOMALIES = 5
VERDICT_STYLE = {True: "[bold green]VALID[/]", False: "[bold red]INVALID[/]",
                 "unknown": "[bold yellow]UNKNOWN[/]"}


def finish_run(config: RunConfig, outcome: RunOutcome) -> None:
    """Check a complete run's history (register model), then write results.json,
    plots and report.html. An incomplete run is not checked; its history stays
    for `quorumlab check`."""
    folder = outcome.folder
    if outcome.incomplete and folder.history.stat().st_size == 0:
        folder.write_json("results.json", outcome.to_dict())  # stopped before any op
        return
    history = load_history(folder.history, "jsonl")
    if not outcome.incomplete:
        started = time.monotonic()
        report = check(history, model="register", time_limit=max(10.0, config.time_limit))
        outcome.verdict, outcome.report = report.verdict, report.to_dict()
        outcome.phases["check"] = round(time.monotonic() - started, 3)
    results = outcome.to_dict()
    folder.write_json("results.json", results)
    try:
        plots = plot_run(history.events, folder.path)
        write_report(folder.path / "report.html", config.name, results, config.to_dict(), plots)
    except Exception:  # the verdict stands without its pictures
        log.exception("plots or report.html failed")


def print_summary(console: Console, outcome: RunOutcome, config: RunConfig) -> None:
    """A few lines: verdict, each checker, the first anomalies explained, the folder."""
    if outcome.error is not None:
        console.print(f"[bold red]run {outcome.error}[/] (history kept)")
    if outcome.report is not None:
        for result in outcome.report.get("results", []):
            style = VERDICT_STYLE.get(result.get("valid"), str(result.get("valid")))
            anomalies = result.get("anomalies", [])
            console.print(f"  {result.get('checker')}: {style}"
                          + (f" ({len(anomalies)} anomalies)" if anomalies else ""))
            for anomaly in anomalies[:SHOWN_ANOMALIES]:
                console.print(f"    [red]{anomaly.get('kind')}[/]: {anomaly.get('explanation')}",
                              highlight=False)
    verdict = VERDICT_STYLE.get(outcome.verdict, "[bold red]NO VERDICT[/]")
    console.print(f"{config.name}: {verdict}  seed={config.seed}  {outcome.folder.path}",
                  highlight=False)
