"""The terminal summary of a run: verdict, each checker, the first anomalies, the folder."""

from __future__ import annotations

from rich.console import Console

from harness.config import RunConfig
from harness.outcome import RunOutcome

SHOWN_ANOMALIES = 5
VERDICT_STYLE = {True: "[bold green]VALID[/]", False: "[bold red]INVALID[/]",
                 "unknown": "[bold yellow]UNKNOWN[/]"}


def print_summary(console: Console, outcome: RunOutcome, config: RunConfig) -> None:
    """A few lines, so a terminal shows what results.json and report.html hold."""
    if outcome.error is not None:
        console.print(f"[bold red]run {outcome.error}[/] (history kept)")
    if outcome.report is not None:
        for result in outcome.report.results:
            style = VERDICT_STYLE.get(result.valid, str(result.valid))
            anomalies = result.anomalies
            console.print(f"  {result.checker}: {style}"
                          + (f" ({len(anomalies)} anomalies)" if anomalies else ""))
            for anomaly in anomalies[:SHOWN_ANOMALIES]:
                console.print(f"    [red]{anomaly.kind}[/]: {anomaly.explanation}",
                              highlight=False)
    verdict = VERDICT_STYLE.get(outcome.verdict, "[bold red]NO VERDICT[/]")
    console.print(f"{config.name}: {verdict}  seed={config.seed}  {outcome.folder.path}",
                  highlight=False)
