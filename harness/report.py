"""report.html: one self-contained page per checked history (a run's or an imported one).

Everything is in the file: plots as data URIs, timelines as inline SVG, the
style in the head; no script, no network. The page reads top-down the way
a person debugging a run does: the verdict and how to replay it; what the
run did (counts, speed, availability); which faults were applied and
whether they took effect; then each anomaly in words with a timeline of its
key around it. Large histories stay usable: timelines are drawn for the
first anomalies of each kind only, each capped in ops (harness/timeline.py),
and long lists of anomalies are cut, always saying how much was left out.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from matplotlib.colors import to_hex

from checkers.api import Report
from checkers.history import History, Op
from checkers.result import Anomaly, CheckResult, Verdict
from harness.fault_log import FAULT_COLOURS, AppliedFault, Window
from harness.run_stats import Availability, RunStats, run_stats
from harness.timeline import KeyOps, Timeline, draw

DRAWN_PER_KIND = 5  # anomalies of each kind with a timeline, per checker
LISTED_PER_KIND = 50  # anomalies of each kind in words, per checker
PREFIX_DRAWN = 8  # last ops of a longest linearizable prefix drawn with the unplaceable op

STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; }
.valid { color: #137333; } .invalid { color: #c5221f; } .unknown { color: #b06000; }
.badge { padding: .1em .5em; border-radius: .3em; color: #fff; }
.badge.valid { background: #137333; } .badge.invalid { background: #c5221f; }
.badge.unknown { background: #b06000; }
pre { background: #f6f6f6; padding: .8em; overflow-x: auto; }
table { border-collapse: collapse; margin: .5em 0 1em; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.anomaly { border-left: 4px solid #c5221f; padding: .2em 1em; margin: 1.5em 0; }
.caption { color: #555; font-size: .9em; } .swatch { font-size: 1.2em; }
svg.timeline { max-width: 100%; height: auto; border: 1px solid #eee; }
img { max-width: 100%; }
"""


@dataclass
class ReportPage:
    """What a report shows, from a run or from an imported history."""

    title: str
    history: History
    report: Report | None
    verdict: Verdict | None
    facts: list[tuple[str, str]]  # the header's table: system, configuration, seed, version
    replay: str | None = None  # the command that replays (or re-checks) it
    replay_label: str = "Replay"
    note: str | None = None  # why the run is incomplete, when it is
    plots: Sequence[tuple[str, bytes]] = ()  # (name, PNG) embedded as data URIs
    files: Sequence[str] = ()  # links relative to the page (history, logs)
    config: dict[str, Any] | None = None
    phases: dict[str, float] | None = None
    seconds: bool = True  # the history's times are nanoseconds (else positions)
    extra: dict[str, Any] = field(default_factory=dict)  # further JSON shown at the end
    stats: RunStats | None = None  # measured already (else measured here)


def verdict_word(valid: Verdict | None) -> tuple[str, str]:
    """(word, css class) of a verdict; None is a run that gave none."""
    if valid is True:
        return "valid", "valid"
    if valid is False:
        return "INVALID", "invalid"
    if valid == "unknown":
        return "unknown", "unknown"
    return "no verdict", "invalid"


def write_report(path: Path, page: ReportPage) -> Path:
    path.write_text(render_report(page), encoding="utf-8")
    return path


def render_report(page: ReportPage) -> str:
    stats = page.stats or run_stats(page.history)
    word, css = verdict_word(page.verdict)
    title = html.escape(page.title)
    body = [f"<h1>{title}: <span class='badge {css}'>{word}</span></h1>",
            _header(page), _checkers_table(page.report), _statistics(stats, page.seconds),
            _faults(stats, page.seconds), _plots(page.plots),
            _anomalies(page, stats.faults)]
    if page.config is not None:
        body.append(f"<h2>Configuration</h2><pre>{_json(page.config)}</pre>")
    if page.phases:
        body.append(f"<h2>Phases (seconds)</h2><pre>{_json(page.phases)}</pre>")
    for name, value in page.extra.items():
        body.append(f"<h2>{html.escape(name)}</h2><pre>{_json(value)}</pre>")
    return ("<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>{title}: {word}</title><style>{STYLE}</style></head><body>\n"
            + "\n".join(part for part in body if part) + "\n</body></html>\n")


def _header(page: ReportPage) -> str:
    rows = "".join(f"<tr><th>{html.escape(name)}</th><td>{html.escape(value)}</td></tr>"
                   for name, value in page.facts)
    parts = [f"<table class='facts'>{rows}</table>"]
    if page.note:
        parts.append(f"<p class='invalid'><b>Run incomplete:</b> {html.escape(page.note)}</p>")
    if page.replay:
        parts.append(f"<p>{html.escape(page.replay_label)}:</p>"
                     f"<pre class='replay'>{html.escape(page.replay)}</pre>")
    if page.files:
        links = " · ".join(f"<a href='{html.escape(name)}'>{html.escape(name)}</a>"
                           for name in page.files)
        parts.append(f"<p>Files: {links}</p>")
    return "\n".join(parts)


def _checkers_table(report: Report | None) -> str:
    if report is None or not report.results:
        return "<h2>Checkers</h2><p>No checker ran.</p>"
    rows = []
    for result in report.results:
        word, css = verdict_word(result.valid)
        kinds: dict[str, int] = {}
        for anomaly in result.anomalies:
            kinds[anomaly.kind] = kinds.get(anomaly.kind, 0) + 1
        found = ", ".join(f"{n} {html.escape(kind)}" for kind, n in sorted(kinds.items()))
        reason = result.details.get("reason")
        note = html.escape(str(reason)) if reason else ""
        rows.append(f"<tr><td><a href='#checker-{html.escape(result.checker)}'>"
                    f"{html.escape(result.checker)}</a></td><td class='{css}'><b>{word}</b></td>"
                    f"<td>{found or '—'}</td><td>{note}</td></tr>")
    return ("<h2>Checkers</h2><table class='checkers'><tr><th>checker</th><th>verdict</th>"
            "<th>anomalies</th><th>note</th></tr>" + "".join(rows) + "</table>")


def _share(availability: Availability) -> str:
    share = availability.share
    return "—" if share is None else f"{share:.1%} of {availability.ops}"


def _statistics(stats: RunStats, seconds: bool) -> str:
    counts = "".join(
        f"<tr><td>{html.escape(f)}</td>" + "".join(f"<td class='num'>{c[t]}</td>"
                                                   for t in ("ok", "fail", "info"))
        + f"<td class='num'>{sum(c.values())}</td></tr>" for f, c in stats.counts.items())
    latency = "".join(
        f"<tr><td>{html.escape(f)}</td>" + "".join(f"<td class='num'>{q[name]:.1f}</td>"
                                                   for name in ("p50", "p90", "p99", "max"))
        + "</tr>" for f, q in stats.latency_ms.items())
    speed = (f"<p>{stats.overall.ops} client ops over {stats.duration_s:.1f} s: "
             f"{stats.ok_per_s:.1f} ok ops/s.</p>" if seconds else
             f"<p>{stats.overall.ops} client ops.</p>")
    availability = (
        "<table class='availability'><tr><th>ops invoked</th><th>ok share</th></tr>"
        f"<tr><td>all</td><td class='num'>{_share(stats.overall)}</td></tr>"
        f"<tr><td>outside every fault</td><td class='num'>{_share(stats.outside_faults)}</td></tr>"
        f"<tr><td>during some fault</td><td class='num'>{_share(stats.inside_faults)}</td></tr>"
        "</table>")
    return ("<h2>Statistics</h2>" + speed
            + "<table class='counts'><tr><th>op</th><th>ok</th><th>fail</th><th>info</th>"
              "<th>total</th></tr>" + counts + "</table>"
            + ("<table class='latency'><tr><th>op</th><th>p50 ms</th><th>p90 ms</th>"
               "<th>p99 ms</th><th>max ms</th></tr>" + latency + "</table>"
               if latency and seconds else "")
            + "<p>Availability (the ok share of the client ops invoked):</p>" + availability)


def _took_effect(fault: AppliedFault) -> str:
    if fault.took_effect is None:
        return "not probed"
    if fault.took_effect:
        return "<span class='valid'>yes</span>"
    return f"<span class='invalid'><b>no</b></span>: {html.escape(fault.problem or '')}"


def _faults(stats: RunStats, seconds: bool) -> str:
    if not stats.faults:
        return "<h2>Faults</h2><p>None injected.</p>"
    unit = " s" if seconds else ""
    rows = []
    for fault, availability in zip(stats.faults, stats.in_fault, strict=True):
        colour = to_hex(FAULT_COLOURS[fault.label])
        shape = {name: fault.value[name] for name in ("grudge", "delay_ms", "jitter_ms", "loss",
                                                       "offsets_s") if name in fault.value}
        stop = f"{fault.stop:.2f}{unit}" + ("" if fault.healed else " (never healed)")
        rows.append(
            f"<tr class='fault'><td><span class='swatch' style='color:{colour}'>&#9632;</span> "
            f"{html.escape(fault.kind)}</td><td>{html.escape(', '.join(fault.nodes))}</td>"
            f"<td class='num'>{fault.start:.2f}{unit}</td><td class='num'>{stop}</td>"
            f"<td>{_took_effect(fault)}</td><td class='num'>{_share(availability)}</td>"
            f"<td>{html.escape(orjson.dumps(shape).decode()) if shape else ''}</td></tr>")
    probed = [fault for fault in stats.faults if fault.took_effect is not None]
    failed = [fault for fault in probed if not fault.took_effect]
    verdict = ""
    if probed:
        verdict = (f"<p>{len(probed)} faults probed after they started; "
                   + (f"<b class='invalid'>{len(failed)} did not take effect</b>: the run did "
                      "not test all it claims.</p>" if failed else "all took effect.</p>"))
    return ("<h2>Faults</h2>" + verdict
            + "<table class='faults'><tr><th>kind</th><th>nodes</th><th>start</th><th>end</th>"
              "<th>took effect</th><th>ok share during it</th><th>shape</th></tr>"
            + "".join(rows) + "</table>")


def _plots(plots: Sequence[tuple[str, bytes]]) -> str:
    images = []
    for name, png in plots:
        data = base64.b64encode(png).decode()
        images.append(f"<p><img src='data:image/png;base64,{data}' "
                      f"alt='{html.escape(name)}'></p>")
    return "<h2>Over time</h2>" + "".join(images) if images else ""


def _anomalies(page: ReportPage, faults: list[AppliedFault]) -> str:
    if page.report is None:
        return ""
    by_key = {None if key is None else str(key): ops
              for key, ops in page.history.ops_by_key().items()}
    indexed: dict[Any, KeyOps] = {}  # built for the keys that get a timeline
    by_index = {op.invoke_index: op for op in page.history.ops}
    windows = [fault.window for fault in faults]
    sections = []
    for result in page.report.results:
        if not result.anomalies:
            continue
        kinds: dict[str, list[Anomaly]] = {}
        for anomaly in result.anomalies:  # grouped by kind, in order of first appearance
            kinds.setdefault(anomaly.kind, []).append(anomaly)
        index = " · ".join(f"<a href='#{html.escape(result.checker)}-{html.escape(kind)}'>"
                           f"{html.escape(kind)}</a> ({len(found)})"
                           for kind, found in kinds.items())
        parts = [f"<h2 id='checker-{html.escape(result.checker)}'>"
                 f"{html.escape(result.checker)}: {len(result.anomalies)} anomalies</h2>"
                 f"<p>{index}</p>"]
        if any(len(found) > DRAWN_PER_KIND for found in kinds.values()):
            parts.append(f"<p class='caption'>Of each kind, the first {LISTED_PER_KIND} are "
                         f"explained here and the first {DRAWN_PER_KIND} drawn; "
                         "results.json has them all.</p>")
        for kind, found in kinds.items():
            parts.append(f"<h3 id='{html.escape(result.checker)}-{html.escape(kind)}'>"
                         f"{html.escape(kind)}: {len(found)}</h3>")
            parts.extend(_anomaly(result, anomaly, n, n < DRAWN_PER_KIND, by_key, indexed,
                                  by_index, windows, page.seconds)
                         for n, anomaly in enumerate(found[:LISTED_PER_KIND]))
            if len(found) > LISTED_PER_KIND:
                parts.append(f"<p class='caption'>{len(found) - LISTED_PER_KIND} more "
                             f"{html.escape(kind)} anomalies are in results.json.</p>")
        sections.append("".join(parts))
    return "\n".join(sections)


def _anomaly(result: CheckResult, anomaly: Anomaly, n: int, drawn_here: bool,
             by_key: dict[Any, list[Op]],
             indexed: dict[Any, KeyOps], by_index: dict[int, Op], windows: list[Window],
             seconds: bool) -> str:
    where = "" if anomaly.key is None else f" on key {html.escape(anomaly.key)}"
    parts = [f"<div class='anomaly' id='{html.escape(result.checker)}-"
             f"{html.escape(anomaly.kind)}-{n}' data-kind='{html.escape(anomaly.kind)}'>",
             f"<h4>{n + 1}. {html.escape(anomaly.kind)}{where}</h4>",
             f"<p class='explanation'>{html.escape(anomaly.explanation)}</p>"]
    cycle = anomaly.details.get("cycle") or []
    if cycle:
        parts.append("<ol class='cycle'>" + "".join(f"<li>{html.escape(str(step))}</li>"
                                                    for step in cycle) + "</ol>")
    focus = _focus_of(anomaly)
    named = [by_index[i] for i in dict.fromkeys(focus.named) if i in by_index]
    if named:
        parts.append("<table class='ops'><tr><th>op</th><th>process</th><th>f</th>"
                     "<th>value</th><th>outcome</th><th>version</th><th>node</th>"
                     "<th>invoked</th><th>completed</th></tr>"
                     + "".join(_op_row(op, focus, seconds) for op in named) + "</table>")
    if drawn_here and named:
        if anomaly.key not in indexed:
            indexed[anomaly.key] = KeyOps(by_key.get(anomaly.key, []))
        drawn = draw(Timeline(indexed[anomaly.key], focus.named, windows, focus.numbered,
                              focus.emphasis, seconds))
        parts.append(drawn.svg)
        left_out = drawn.nearby - drawn.shown
        parts.append(
            f"<p class='caption'>{drawn.shown} ops of this key drawn"
            + (f" (the nearest to the named ones; {left_out} more overlap this span and are "
               "left out)"
               if left_out > 0 else "")
            + ". Bars run from invocation to completion: green ok, red fail, orange info "
              "(an arrow: it never completed and may take effect later). Outlined: the ops "
              "this anomaly names" + _numbering_note(focus) + ". Shaded: fault windows.</p>")
    parts.append("</div>")
    return "".join(parts)


@dataclass(frozen=True)
class Focus:
    """The ops an anomaly points at, and how the timeline marks them."""

    named: list[int]  # invoke indexes, outlined
    numbered: dict[int, int] = field(default_factory=dict)  # place in a linearized prefix
    emphasis: int | None = None  # the op a search could not place


def _focus_of(anomaly: Anomaly) -> Focus:
    """A cycle's ops, or a failed search's last linearized ops (numbered in their
    linearized order) and the op it could not place."""
    prefix = anomaly.details.get("prefix")
    blocker = anomaly.details.get("blocker")
    if blocker is None or prefix is None:
        return Focus(list(anomaly.ops))
    numbered = {index: position + 1 for position, index in enumerate(prefix)}
    return Focus([*prefix[-PREFIX_DRAWN:], blocker], numbered, blocker)


def _numbering_note(focus: Focus) -> str:
    if focus.emphasis is None:
        return ""
    return ("; numbers give each op's place in the longest linearizable prefix, and the "
            f"red outline is op #{focus.emphasis}, which could not be placed after it")


def _op_row(op: Op, focus: Focus, seconds: bool) -> str:
    def when(t: int | None) -> str:
        if t is None:
            return "never"
        return f"{t / 1e9:.3f} s" if seconds else str(t)

    role = (" (unplaceable)" if op.invoke_index == focus.emphasis
            else f" (prefix {focus.numbered[op.invoke_index]})"
            if op.invoke_index in focus.numbered else "")
    version = "" if op.version is None else html.escape(str(list(op.version)))
    return (f"<tr><td>#{op.invoke_index}{role}</td><td>{html.escape(str(op.process))}</td>"
            f"<td>{html.escape(op.f)}</td><td>{html.escape(repr(op.value))}</td>"
            f"<td>{op.type}</td><td>{version}</td><td>{html.escape(op.node or '')}</td>"
            f"<td class='num'>{when(op.invoke_time)}</td>"
            f"<td class='num'>{when(op.complete_time)}</td></tr>")


def _json(value: Any) -> str:
    return html.escape(orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS,
                                    default=str).decode())
