"""Timelines of one key around an anomaly, as inline SVG (no JavaScript to read it).

Ops are bars on one lane per process, from invocation to completion, coloured
by outcome; the ops an anomaly names are outlined and labelled; fault windows
are shaded behind them in their kind's colour. This is the picture Jepsen's
linear.svg and Porcupine's visualization give, readable in any browser and
in a report opened from a CI artifact.

What is drawn is capped: a hot key can have thousands of ops around an
anomaly, and a page with a hundred such timelines must still open. The ops
the anomaly names are always drawn; the rest are those nearest to them in
time, and the caption says how many were left out.
"""

from __future__ import annotations

import html
import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from operator import attrgetter

from matplotlib.colors import to_hex

from checkers.history import Op
from harness.fault_log import FAULT_COLOURS, Window

MAX_OPS = 60  # bars per timeline
OUTCOME_FILL = {"ok": "#4caf50", "fail": "#e53935", "info": "#fb8c00"}
WIDTH, LEFT, RIGHT, TOP, LANE, BOTTOM = 960, 92, 16, 26, 24, 34
VALUE_CHARS = 14


class KeyOps:
    """One key's ops in invocation order, indexed once for all the timelines of the key:
    a hot key of a long run has hundreds of thousands of ops and many anomalies."""

    def __init__(self, ops: Sequence[Op]) -> None:
        self.ops = sorted(ops, key=attrgetter("invoke_time"))  # usually sorted: linear
        self.times = [op.invoke_time for op in self.ops]
        self.position = {op.invoke_index: i for i, op in enumerate(self.ops)}
        self.longest = max((op.complete_time - op.invoke_time for op in self.ops
                            if op.complete_time is not None), default=0)
        self.never_completed = [i for i, op in enumerate(self.ops) if op.complete_time is None]


@dataclass
class Timeline:
    """What to draw: the ops of one key, which of them to point at, and the faults."""

    ops: KeyOps
    named: Sequence[int]  # invoke indexes the anomaly is about: always drawn, outlined
    windows: Sequence[Window] = ()
    numbered: dict[int, int] = field(default_factory=dict)  # invoke index -> label number
    emphasis: int | None = None  # the one op to mark most strongly (the unplaceable op)
    seconds: bool = True  # times are nanoseconds; False: positions in the history


@dataclass(frozen=True)
class Drawn:
    svg: str
    shown: int  # bars drawn
    nearby: int  # ops of the key overlapping the drawn span (past the cap: invoked in it)


def select_ops(timeline: Timeline, cap: int = MAX_OPS) -> tuple[list[Op], int]:
    """The ops to draw and how many ops of the key lie in the span around the named ones.

    Past the cap, the ops kept besides the named ones are each named op's
    neighbours in invocation order, taken in turn: the context of every named
    op, even when they lie far apart. Found by bisection, so the cost is the
    span's ops, never the key's (bench/report_size.py)."""
    key = timeline.ops
    positions = sorted({key.position[i] for i in timeline.named if i in key.position})
    if not positions:
        return [], 0
    start, stop = _span([key.ops[p] for p in positions])
    pad = max((stop - start) // 4, 1)
    start, stop = start - pad, stop + pad
    # Only an op invoked at most `longest` before the span can reach into it.
    low = bisect_left(key.times, start - key.longest)
    high = bisect_right(key.times, stop)

    def overlaps(p: int) -> bool:
        op = key.ops[p]
        return op.complete_time is None or op.complete_time >= start

    early = [p for p in key.never_completed if p < low]  # may run on into the span
    if high - low + len(early) <= cap:
        chosen = [p for p in (*early, *range(low, high)) if overlaps(p)]
        return [key.ops[p] for p in sorted(chosen)], len(chosen)
    picked = set(positions)
    step = 1
    while len(picked) < cap and step <= high - low:
        for position in positions:
            for neighbour in (position - step, position + step):
                if low <= neighbour < high and len(picked) < cap and overlaps(neighbour):
                    picked.add(neighbour)
        step += 1
    in_span = bisect_right(key.times, stop) - bisect_left(key.times, start)
    return [key.ops[p] for p in sorted(picked)], max(in_span, len(picked))


def draw(timeline: Timeline, cap: int = MAX_OPS) -> Drawn:
    """The timeline as an ``<svg>`` element, with a ``data-op`` attribute per bar."""
    ops, nearby = select_ops(timeline, cap)
    if not ops:
        return Drawn("", 0, 0)
    start, stop = _span(ops)
    start, stop = start - max((stop - start) // 50, 1), stop + max((stop - start) // 50, 1)
    lanes = sorted({op.process for op in ops}, key=lambda p: (isinstance(p, str), str(p)
                   if isinstance(p, str) else f"{p:012d}"))
    lane_of = {process: i for i, process in enumerate(lanes)}
    height = TOP + LANE * len(lanes) + BOTTOM
    scale = (WIDTH - LEFT - RIGHT) / (stop - start)

    def x(t: float) -> float:
        return LEFT + (min(max(t, start), stop) - start) * scale

    unit = 1e9 if timeline.seconds else 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="{WIDTH}" '
             f'height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" '
             'font-size="11">']
    for w_start, w_stop, label in timeline.windows:
        a, b = x(w_start * unit), x(w_stop * unit)
        if b - a <= 0:
            continue
        colour = to_hex(FAULT_COLOURS[label])
        parts.append(f'<g class="fault"><rect x="{a:.1f}" y="{TOP - 14}" width="{b - a:.1f}" '
                     f'height="{LANE * len(lanes) + 14}" fill="{colour}" fill-opacity="0.13"/>'
                     f'<text x="{a + 3:.1f}" y="{TOP - 4}" fill="{colour}">'
                     f'{html.escape(label)}</text></g>')
    for process, i in lane_of.items():
        y = TOP + LANE * i
        parts.append(f'<text x="{LEFT - 6}" y="{y + LANE / 2 + 4:.1f}" text-anchor="end" '
                     f'fill="#444">{html.escape(_lane_name(process))}</text>'
                     f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y + LANE}" y2="{y + LANE}" '
                     'stroke="#eee"/>')
    named = set(timeline.named)
    for op in ops:
        y = TOP + LANE * lane_of[op.process]
        parts.append(_bar(op, x(op.invoke_time), x(_end(op, stop)), y,
                          op.invoke_index in named, op.invoke_index == timeline.emphasis,
                          timeline.numbered.get(op.invoke_index), unit))
    parts.append(_axis(start, stop, x, TOP + LANE * len(lanes), unit, timeline.seconds))
    parts.append("</svg>")
    return Drawn("".join(parts), len(ops), nearby)


def _bar(op: Op, a: float, b: float, y: float, named: bool, emphasis: bool,
         number: int | None, unit: float) -> str:
    width = max(b - a, 3.0)
    fill = OUTCOME_FILL.get(op.type, "#999")
    stroke = ('stroke="#b00020" stroke-width="3"' if emphasis else
              'stroke="#111" stroke-width="2"' if named else 'stroke="none"')
    dash = ' stroke-dasharray="4 2"' if op.complete_time is None and not named else ""
    opacity = "1" if named else "0.55"
    text = _short(op)
    label = f"{number}: {text}" if number is not None else text
    title = html.escape(_title(op, unit))
    out = [f'<g class="op{" named" if named else ""}" data-op="{op.invoke_index}">'
           f'<title>{title}</title>'
           f'<rect x="{a:.1f}" y="{y + 4:.1f}" width="{width:.1f}" height="{LANE - 8}" rx="2" '
           f'fill="{fill}" fill-opacity="{opacity}" {stroke}{dash}/>']
    if op.complete_time is None:  # may take effect at any later time: the bar runs on
        out.append(f'<text x="{a + width - 2:.1f}" y="{y + LANE / 2 + 4:.1f}" '
                   'text-anchor="end" fill="#fff">&#8594;</text>')
    if named or width > 7 * len(label):
        weight = ' font-weight="bold"' if named else ""
        out.append(f'<text x="{a + 2:.1f}" y="{y + 3:.1f}" fill="#111"{weight}>'
                   f'{html.escape(label)}</text>' if named else
                   f'<text x="{a + 3:.1f}" y="{y + LANE / 2 + 4:.1f}" fill="#fff">'
                   f'{html.escape(label)}</text>')
    out.append("</g>")
    return "".join(out)


def _axis(start: int, stop: int, x: Callable[[float], float], y: float, unit: float,
          seconds: bool) -> str:
    span = (stop - start) / unit
    step = _tick_step(span)
    first = int(start / unit / step) * step
    ticks = []
    value = first
    while value <= stop / unit:
        if value >= start / unit:
            px = x(value * unit)
            text = f"{value:.{_decimals(step)}f}" + (" s" if seconds else "")
            ticks.append(f'<line x1="{px:.1f}" x2="{px:.1f}" y1="{y}" y2="{y + 4}" '
                         f'stroke="#888"/><text x="{px:.1f}" y="{y + 16}" text-anchor="middle" '
                         f'fill="#666">{text}</text>')
        value += step
    caption = "time since the test started" if seconds else "position in the history"
    return (f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}" stroke="#888"/>'
            + "".join(ticks)
            + f'<text x="{WIDTH - RIGHT}" y="{y + 30}" text-anchor="end" fill="#888">'
              f'{caption}</text>')


def _tick_step(span: float) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving at most 10 ticks over ``span``."""
    if span <= 0:
        return 1.0
    power = math.floor(math.log10(span)) - 1
    for step in (m * 10.0 ** p for p in (power, power + 1, power + 2) for m in (1, 2, 5)):
        if span / step <= 10:
            return step
    return 10.0 ** (power + 3)


def _decimals(step: float) -> int:
    text = f"{step:.6f}".rstrip("0")
    return len(text.split(".")[1]) if "." in text else 0


def _span(ops: Sequence[Op]) -> tuple[int, int]:
    start = min(op.invoke_time for op in ops)
    stop = max(op.complete_time if op.complete_time is not None else op.invoke_time
               for op in ops)
    return start, max(stop, start + 1)


def _end(op: Op, horizon: int) -> int:
    return op.complete_time if op.complete_time is not None else horizon


def _lane_name(process: object) -> str:
    return f"process {process}" if isinstance(process, int) else str(process)


def _short(op: Op) -> str:
    """A bar's label: the function's initial and the value (what a read returned)."""
    letter = {"read": "R", "write": "W", "cas": "C", "final-read": "FR"}.get(op.f, op.f)
    if op.f in ("read", "final-read") and op.type != "ok":
        value = "?"  # nothing learned
    elif op.value is None:
        value = "nil"
    elif op.f == "cas" and isinstance(op.value, list | tuple) and len(op.value) == 2:
        value = f"{op.value[0]}→{op.value[1]}"
    else:
        value = op.value if isinstance(op.value, str) else repr(op.value)
    value = value if len(value) <= VALUE_CHARS else value[:VALUE_CHARS - 1] + "…"
    return f"{letter} {value}"


def _title(op: Op, unit: float) -> str:
    """A bar's tooltip: everything the history says about the op."""
    took = ("never completed" if op.complete_time is None
            else f"{(op.complete_time - op.invoke_time) / 1e6:.1f} ms" if unit == 1e9
            else f"positions {op.invoke_time}-{op.complete_time}")
    parts = [f"#{op.invoke_index} {op.f} {op.key if op.key is not None else ''}".rstrip(),
             f"value {op.value!r}", op.type, took]
    if op.version is not None:
        parts.append(f"version {list(op.version)}")
    if op.node:
        parts.append(f"node {op.node}")
    if op.error:
        parts.append(op.error)
    return ", ".join(parts)
