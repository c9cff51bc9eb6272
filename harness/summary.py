"""The terminal summary of a run: verdict per checker, anomalies by kind, the first
anomalies in words, ops and latency, availability in and out of fault windows,
and where the report is: what results.json and report.html hold, at a glance."""

from __future__ import annotations

from collections import Counter

from rich.console import Console
from rich.table import Table

from harness.config import RunConfig
from harness.outcome import RunOutcome
from harness.run_stats import Availability, RunStats

SHOWN_ANOMALIES = 5
VERDICT_STYLE = {True: "[bold green]VALID[/]", False: "[bold red]INVALID[/]",
                 "unknown": "[bold yellow]UNKNOWN[/]"}


def print_summary(console: Console, outcome: RunOutcome, config: RunConfig) -> None:
    if outcome.error is not None:
        console.print(f"[bold red]run {outcome.error}[/] (history kept)")
    if outcome.report is not None:
        table = Table(title="checkers", title_justify="left", show_edge=False)
        for column in ("checker", "verdict", "anomalies"):
            table.add_column(column)
        for result in outcome.report.results:
            kinds = Counter(anomaly.kind for anomaly in result.anomalies)
            table.add_row(result.checker, VERDICT_STYLE.get(result.valid, str(result.valid)),
                          ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) or "-")
        console.print(table)
        for result in outcome.report.results:
            for anomaly in result.anomalies[:SHOWN_ANOMALIES]:
                console.print(f"  [red]{anomaly.kind}[/] ({result.checker}): "
                              f"{anomaly.explanation}", highlight=False)
            hidden = len(result.anomalies) - SHOWN_ANOMALIES
            if hidden > 0:
                console.print(f"  [dim]... and {hidden} more {result.checker} anomalies "
                              "(report.html, results.json)[/]")
    if outcome.stats is not None:
        print_stats(console, outcome.stats)
    verdict = VERDICT_STYLE.get(outcome.verdict, "[bold red]NO VERDICT[/]")
    console.print(f"{config.name}: {verdict}  seed={config.seed}  {outcome.folder.path}",
                  highlight=False)
    report = outcome.folder.path / "report.html"
    if report.exists():
        console.print(f"report: {report}", highlight=False)


def print_stats(console: Console, stats: RunStats) -> None:
    """Ops and latency per function, then availability in and out of faults."""
    table = Table(title="ops", title_justify="left", show_edge=False)
    for column in ("op", "ok", "fail", "info", "p50 ms", "p90 ms", "p99 ms", "max ms"):
        table.add_column(column, justify="left" if column == "op" else "right")
    for f, counts in stats.counts.items():
        latency = stats.latency_ms.get(f, {})
        table.add_row(f, *(str(counts[t]) for t in ("ok", "fail", "info")),
                      *(f"{latency[q]:.1f}" if q in latency else "-"
                        for q in ("p50", "p90", "p99", "max")))
    console.print(table)
    console.print(f"availability (ok share of ops invoked): {_share(stats.overall)} overall, "
                  f"{_share(stats.outside_faults)} outside faults, "
                  f"{_share(stats.inside_faults)} during {len(stats.faults)} faults; "
                  f"{stats.ok_per_s:.0f} ok ops/s", highlight=False)


def _share(availability: Availability) -> str:
    return "-" if availability.share is None else f"{availability.share:.1%}"
