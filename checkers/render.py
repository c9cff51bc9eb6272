"""A report in words, for a terminal (rich, coloured) or a plain text file.

One line per checker with its verdict, then each anomaly: its kind, key and
explanation, and the cycle op by op. Long lists are cut at ``limit`` anomalies
per checker (the JSON output keeps them all).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from checkers.api import Report
from checkers.result import CheckResult, Verdict

ANOMALY_LIMIT = 10
_STYLE = {True: "bold green", False: "bold red", "unknown": "bold yellow"}


def verdict_word(verdict: Verdict) -> str:
    return {True: "valid", False: "INVALID"}.get(verdict, "unknown")  # type: ignore[arg-type]


def report_text(report: Report, *, limit: int = ANOMALY_LIMIT) -> Text:
    """The report as rich Text; ``.plain`` gives it without colour."""
    text = Text()
    text.append(f"{report.source}: ")
    text.append(verdict_word(report.verdict), style=_STYLE[report.verdict])
    text.append("\n")
    for result in report.results:
        text.append(f"  {result.checker}: ")
        text.append(verdict_word(result.valid), style=_STYLE[result.valid])
        summary = _summary(result)
        if summary:
            text.append(f"  ({summary})", style="dim")
        text.append("\n")
        for anomaly in result.anomalies[:limit]:
            text.append(f"    - {anomaly.kind}", style="bold")
            where = "" if anomaly.key is None else f" [{anomaly.key}]"  # None: one register
            text.append(f"{where}: {anomaly.explanation}\n")
            for step in anomaly.details.get("cycle", []):
                text.append(f"        {step}\n", style="dim")
        hidden = len(result.anomalies) - limit
        if hidden > 0:
            text.append(f"    ... and {hidden} more anomalies (see --json)\n", style="dim")
    return text


def print_report(report: Report, console: Console | None = None) -> None:
    (console or Console(highlight=False, soft_wrap=True)).print(report_text(report), end="")


def _summary(result: CheckResult) -> str:
    details: dict[str, Any] = result.details
    parts: list[str] = []
    if result.anomalies:
        kinds: dict[str, int] = {}
        for anomaly in result.anomalies:
            kinds[anomaly.kind] = kinds.get(anomaly.kind, 0) + 1
        parts.append(", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())))
    if result.checker == "stats":
        counts = details.get("counts", {})
        parts.extend(f"{f}: {c['ok']} ok, {c['fail']} fail, {c['info']} info"
                     for f, c in counts.items())
    for name in ("reason", "undecided_keys", "convergence_seconds"):
        if name in details:
            parts.append(f"{name.replace('_', ' ')}: {details[name]}")
    return "; ".join(parts)
