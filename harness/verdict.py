"""Checking a finished run and telling the user what was found."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from checkers.api import check
from checkers.formats import load_history
from checkers.result import Verdict
from harness.config import RunConfig
from harness.run_folder import RunFolder
from harness.runner import RunOutcome

SHOWN_ANOMALIES = 5
VERDICT_STYLE = {True: "[bold green]VALID[/]", False: "[bold red]INVALID[/]",
                 "unknown": "[bold yellow]UNKNOWN[/]"}


def check_run(folder: RunFolder, config: RunConfig) -> tuple[Verdict, dict[str, Any]]:
    """Load the run's history and run every checker on it (register model)."""
    history = load_history(folder.history, "jsonl")
    report = check(history, model="register", time_limit=max(10.0, config.time_limit))
    return report.verdict, report.to_dict()


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
