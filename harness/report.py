"""report.html: one self-contained page per run (verdict, anomalies, faults, plots)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import orjson
from matplotlib.colors import to_hex

from checkers.api import Report
from harness.config import RunConfig
from harness.outcome import RunOutcome
from harness.plots import FAULT_COLOURS, Window

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 70em; }}
.valid {{ color: #137333; }} .invalid {{ color: #c5221f; }} .unknown {{ color: #b06000; }}
pre {{ background: #f6f6f6; padding: 1em; overflow-x: auto; }}
li {{ margin-bottom: .5em; }}
</style></head><body>
<h1>{title}: <span class="{verdict_class}">{verdict}</span></h1>
<p>{summary}</p>
{checkers}
{faults}
{plots}
<h2>Configuration</h2><pre>{config}</pre>
<h2>Phases (seconds)</h2><pre>{phases}</pre>
</body></html>
"""


def _verdict_word(valid: Any) -> tuple[str, str]:
    if valid is True:
        return "valid", "valid"
    if valid is False:
        return "INVALID", "invalid"
    if valid == "unknown":
        return "unknown", "unknown"
    return "no verdict", "invalid"


def _checker_sections(report: Report | None) -> str:
    if report is None or not report.results:
        return "<p>No checker ran.</p>"
    parts = []
    for result in report.results:
        word, css = _verdict_word(result.valid)
        items = "".join(
            f"<li><b>{html.escape(a.kind)}</b>: {html.escape(a.explanation)}</li>"
            for a in result.anomalies)
        parts.append(f"<h2>{html.escape(result.checker)}: <span class='{css}'>{word}</span></h2>"
                     + (f"<ol>{items}</ol>" if items else ""))
    return "\n".join(parts)


def _fault_section(windows: list[Window], checks: list[dict[str, Any]]) -> str:
    """The fault windows, named and coloured as the plots shade them, and the
    faults whose probe found they did not take effect (a silent fault is worse
    than none: the run did not test what it claims)."""
    if not windows:
        return "<h2>Faults</h2><p>None injected.</p>"
    items = "".join(
        f"<li><span style='color:{to_hex(FAULT_COLOURS[label])}'>&#9632;</span> "
        f"{html.escape(label)}: {start:.1f} s to {stop:.1f} s</li>"
        for start, stop, label in windows)
    failed = [check for check in checks if not check.get("took_effect")]
    verdict = (f"<p>{len(checks)} faults probed after they started; "
               + (f"<b class='invalid'>{len(failed)} did not take effect</b>:</p>"
                  if failed else "all took effect.</p>")) if checks else ""
    failures = "".join(
        f"<li>{html.escape(str(check.get('kind')))}: "
        f"{html.escape('; '.join(check.get('wrong', [])[:5]))}</li>" for check in failed)
    return (f"<h2>Faults</h2><ul>{items}</ul>{verdict}"
            + (f"<ul>{failures}</ul>" if failures else ""))


def write_report(path: Path, config: RunConfig, outcome: RunOutcome, plots: list[Path],
                 windows: list[Window], checks: list[dict[str, Any]]) -> Path:
    """Write report.html next to the plots it shows."""
    word, css = _verdict_word(outcome.verdict)
    summary = ("Run incomplete: " + html.escape(str(outcome.error))
               if outcome.incomplete else f"Run id {html.escape(outcome.run_id)}.")
    page = PAGE.format(
        title=html.escape(config.name), verdict=word, verdict_class=css, summary=summary,
        checkers=_checker_sections(outcome.report), faults=_fault_section(windows, checks),
        plots="".join(f"<p><img src='{html.escape(p.name)}' alt='{html.escape(p.stem)}'></p>"
                      for p in plots),
        config=html.escape(orjson.dumps(config.to_dict(), option=orjson.OPT_INDENT_2).decode()),
        phases=html.escape(orjson.dumps(outcome.phases, option=orjson.OPT_INDENT_2).decode()))
    path.write_text(page, encoding="utf-8")
    return path
