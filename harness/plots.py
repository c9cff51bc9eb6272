"""Plots of a run: latency and throughput over time, fault windows shaded.

Drawn from the history alone (any history.jsonl, also one re-checked later).
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure  # the object API needs no display or pyplot state

from checkers.history import Event, Op, pair_ops
from harness.fault_log import FAULT_COLOURS, Window, fault_windows, run_end

COLOURS = {"ok": "tab:green", "fail": "tab:red", "info": "tab:orange"}
MIN_BINS = 20  # throughput bins a run's plot shows at least
WIDTHS = tuple(round(step * 10.0 ** -decade, 6) for decade in range(5) for step in (1, 0.5, 0.2))


def _shade(axes: Axes, windows: list[Window]) -> None:
    for start, stop, label in windows:
        axes.axvspan(start, stop, color=FAULT_COLOURS[label], alpha=0.12, lw=0)


def plot_run(events: list[Event], out_dir: Path) -> list[Path]:
    """Write latency.png and throughput.png into `out_dir`; returns their paths."""
    ops = [op for op in pair_ops(events) if isinstance(op.process, int)]
    if not ops:
        return []
    end = run_end(events)
    windows = fault_windows(events, end)
    return [_latency(ops, windows, out_dir / "latency.png"),
            _throughput(ops, windows, out_dir / "throughput.png")]


def _latency(ops: list[Op], windows: list[Window], path: Path) -> Path:
    figure = Figure(figsize=(10, 4))
    axes = figure.subplots()
    _shade(axes, windows)
    for f, marker in (("read", "."), ("write", "x")):
        for type_, colour in COLOURS.items():
            points = [(op.invoke_time / 1e9, (op.complete_time - op.invoke_time) / 1e6)
                      for op in ops if op.f == f and op.type == type_
                      and op.complete_time is not None]
            if points:
                xs, ys = zip(*points, strict=True)
                axes.scatter(xs, ys, s=4, marker=marker, c=colour, label=f"{f} {type_}")
    axes.set_yscale("log")
    axes.set_xlabel("time (s)")
    axes.set_ylabel("latency (ms)")
    if axes.get_legend_handles_labels()[0]:  # no op completed: nothing to name
        axes.legend(loc="upper right", fontsize="small", markerscale=3)
    legend = ", ".join(f"{colour.removeprefix('tab:')} {label}"
                       for label, colour in FAULT_COLOURS.items())
    axes.set_title(f"Latency per op (faults shaded: {legend})")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return path


def bin_width(end: float) -> float:
    """Seconds per throughput bin: one second, or, for a run too short to show
    MIN_BINS of them (a simulated run lasts a fraction of a second of virtual
    time), the largest 1-2-5 step that does."""
    return next((width for width in WIDTHS if end / width >= MIN_BINS), WIDTHS[-1])


def _throughput(ops: list[Op], windows: list[Window], path: Path) -> Path:
    # Over the clients' ops only, as the latency plot: the final phase after
    # them would stretch a simulated run's fraction of a second into a few bins.
    end = max((op.complete_time or op.invoke_time) for op in ops) / 1e9
    width = bin_width(end)
    bins = int(end / width) + 1
    figure = Figure(figsize=(10, 3))
    axes = figure.subplots()
    _shade(axes, windows)
    times = [i * width for i in range(bins + 1)]  # each bin's start, then the last one's end
    for type_, colour in COLOURS.items():
        counts = [0] * bins
        for op in ops:
            if op.type == type_ and op.complete_time is not None:
                counts[min(int(op.complete_time / 1e9 / width), bins - 1)] += 1
        rates = [count / width for count in counts]
        axes.plot(times, [*rates, rates[-1]], color=colour, label=type_, drawstyle="steps-post")
    axes.set_xlabel("time (s)")
    axes.set_ylabel("ops completed / s")
    shown = f"{width:g} s" if width >= 1 else f"{width * 1000:g} ms"
    axes.set_title(f"Throughput (ops completed in each {shown})")
    axes.legend(loc="upper right", fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    return path
