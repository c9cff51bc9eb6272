"""Live progress of a run: what the history says so far, on the terminal while it runs.

``RunTally`` is fed every event the recorder writes and only counts (no clock,
no terminal), so it is tested event by event. It also runs a cheap online
stale-read check: a read that returns a version older than one a write had
already been acknowledged with when the read was invoked. That is the graph
checker's ``stale-read`` restricted to what is known at the moment, so it
never accuses wrongly, and a bug shows while the run is still going.

``LiveProgress`` shows the tally: a rich live panel on a terminal, and plain
lines every few seconds otherwise (one line each, never wrapped), so CI logs
stay readable.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from checkers.history import NEMESIS, Event, Version
from harness.fault_log import FAULT_STARTS, FAULT_STOPS

PLAIN_INTERVAL = 5.0  # seconds between plain progress lines
RATE_WINDOW = 3.0  # seconds over which ops/s is measured


@dataclass
class RunTally:
    """Counts of a run so far, from its events in history order."""

    outcomes: dict[str, int] = field(default_factory=lambda: {"ok": 0, "fail": 0, "info": 0})
    active_faults: dict[str, str] = field(default_factory=dict)  # label -> description
    faults_started: int = 0
    stale_reads: int = 0
    first_stale_s: float | None = None
    last_time_s: float = 0.0
    _acked: dict[Any, Version] = field(default_factory=dict)  # key -> highest ok write
    _floor: dict[Any, Version | None] = field(default_factory=dict)  # process -> at invoke

    @property
    def completed(self) -> int:
        return sum(self.outcomes.values())

    def observe(self, event: Event) -> None:
        self.last_time_s = max(self.last_time_s, event.time / 1e9)
        if event.process == NEMESIS:
            self._fault(event)
        elif isinstance(event.process, int):
            self._client(event)

    def _fault(self, event: Event) -> None:
        if event.f in FAULT_STARTS:
            value = event.value if isinstance(event.value, dict) else {}
            nodes = ",".join(map(str, value.get("nodes", [])))
            self.active_faults[FAULT_STARTS[event.f]] = f"{value.get('kind', event.f)}({nodes})"
            self.faults_started += 1
        elif event.f in FAULT_STOPS:
            self.active_faults.pop(FAULT_STOPS[event.f], None)

    def _client(self, event: Event) -> None:
        if event.type == "invoke":
            if event.f == "read":
                self._floor[event.process] = self._acked.get(event.key)
            return
        self.outcomes[event.type] = self.outcomes.get(event.type, 0) + 1
        version = tuple(event.version) if event.version is not None else None
        if event.type != "ok" or version is None:
            self._floor.pop(event.process, None)
            return
        if event.f == "write":
            best = self._acked.get(event.key)
            if best is None or version > best:
                self._acked[event.key] = version  # type: ignore[assignment]
        elif event.f == "read":
            floor = self._floor.pop(event.process, None)
            if floor is not None and version < floor:
                self.stale_reads += 1
                if self.first_stale_s is None:
                    self.first_stale_s = event.time / 1e9


class LiveProgress:
    """Shows a run's tally while it runs; ``phase`` and ``observe`` are the runner's hooks."""

    def __init__(self, console: Console, time_limit: float, title: str,
                 lines: bool = True) -> None:
        self.console, self.time_limit, self.title = console, time_limit, title
        self.tally = RunTally()
        self.phase_text = "starting"
        self.live = console.is_terminal and not console.quiet
        self.lines = lines  # print phases (and, off a terminal, progress lines)
        self._origin: float | None = None  # monotonic time of the history's time zero
        self._recent: deque[float] = deque()
        self._next_line = 0.0
        self._display: Live | None = None

    def __enter__(self) -> LiveProgress:
        if self.live:
            self._display = Live(self, console=self.console, refresh_per_second=4,
                                 transient=True)
            self._display.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._display is not None:
            self._display.__exit__(None, None, None)
            self._display = None

    def phase(self, message: str) -> None:
        self.phase_text = message
        if self.lines:
            self.console.print(f"[dim]·[/dim] {message}", highlight=False, soft_wrap=True)

    def observe(self, event: Event) -> None:
        self.tally.observe(event)
        now = time.monotonic()
        if self._origin is None:
            self._origin = now - event.time / 1e9
        if isinstance(event.process, int) and event.type != "invoke":
            self._recent.append(now)
            while self._recent and self._recent[0] < now - RATE_WINDOW:
                self._recent.popleft()
        if not self.live and self.lines and event.process != "final" \
                and now >= self._next_line:
            if self._next_line:
                self.console.print(self.line(), highlight=False, soft_wrap=True)
            self._next_line = now + PLAIN_INTERVAL

    def elapsed(self) -> float:
        return 0.0 if self._origin is None else time.monotonic() - self._origin

    def rate(self) -> float:
        now = time.monotonic()
        recent = [t for t in self._recent if t >= now - RATE_WINDOW]
        span = min(RATE_WINDOW, self.elapsed())
        return len(recent) / span if span > 0 else 0.0

    def line(self) -> str:
        """One plain line: where the run is and what it found so far."""
        t = self.tally
        faults = ", ".join(t.active_faults.values()) or "none"
        return (f"  {min(self.elapsed(), self.time_limit):5.1f}/{self.time_limit:g} s  "
                f"{t.completed} ops ({self.rate():.0f}/s)  ok {t.outcomes['ok']} "
                f"fail {t.outcomes['fail']} info {t.outcomes['info']}  faults: {faults}  "
                f"stale reads so far: {t.stale_reads}")

    def __rich__(self) -> RenderableType:
        t = self.tally
        elapsed = self.elapsed()
        remaining = max(0.0, self.time_limit - elapsed)
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold")
        grid.add_column()
        grid.add_row("run", Text(self.title))
        grid.add_row("", ProgressBar(total=self.time_limit,
                                     completed=min(elapsed, self.time_limit), width=40))
        grid.add_row("phase", Text(self.phase_text))
        grid.add_row("time", Text(f"{min(elapsed, self.time_limit):.1f} s elapsed, "
                                  f"{remaining:.1f} s left"))
        grid.add_row("ops", Text.assemble(
            f"{t.completed} ({self.rate():.0f}/s)  ",
            (f"ok {t.outcomes['ok']}", "green"), "  ",
            (f"fail {t.outcomes['fail']}", "red"), "  ",
            (f"info {t.outcomes['info']}", "yellow")))
        grid.add_row("faults now", Text(", ".join(t.active_faults.values()) or "none",
                                        style="magenta" if t.active_faults else "dim"))
        stale = (Text(f"{t.stale_reads} stale reads (first at {t.first_stale_s:.1f} s)",
                      style="bold red") if t.stale_reads else Text("none yet", style="dim"))
        grid.add_row("anomalies", stale)
        return grid
