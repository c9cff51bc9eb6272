"""report.html: one self-contained page per run (verdict, anomalies, plots)."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import orjson

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


def _checker_sections(report: dict[str, Any] | None) -> str:
    if not report:
        return "<p>No checker ran.</p>"
    parts = []
    for result in report.get("results", []):
        word, css = _verdict_word(result.get("valid"))
        items = "".join(
            f"<li><b>{html.escape(str(a.get('kind')))}</b>: "
            f"{html.escape(str(a.get('explanation')))}</li>"
            for a in result.get("anomalies", []))
        parts.append(f"<h2>{html.escape(str(result.get('checker')))}: "
                     f"<span class='{css}'>{word}</span></h2>"
                     + (f"<ol>{items}</ol>" if items else ""))
    return "\n".join(parts)


def write_report(path: Path, title: str, results: dict[str, Any], config: dict[str, Any],
                 plots: list[Path]) -> Path:
    """Write report.html next to the plots it shows."""
    word, css = _verdict_word(results.get("valid"))
    summary = ("Run incomplete: " + html.escape(str(results.get("error")))
               if results.get("incomplete") else f"Run id {html.escape(results['run_id'])}.")
    page = PAGE.format(
        title=html.escape(title), verdict=word, verdict_class=css, summary=summary,
        checkers=_checker_sections(results.get("checkers")),
        plots="".join(f"<p><img src='{html.escape(p.name)}' alt='{html.escape(p.stem)}'></p>"
                      for p in plots),
        config=html.escape(orjson.dumps(config, option=orjson.OPT_INDENT_2).decode()),
        phases=html.escape(orjson.dumps(results.get("phases", {}),
                                        option=orjson.OPT_INDENT_2).decode()))
    path.write_text(page, encoding="utf-8")
    return path
