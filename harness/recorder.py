"""The history recorder: the test's clock, on top of the checkers' history writer.

Each event is validated and written as one flushed line at once (by
``checkers.formats.jsonl.HistoryWriter``), so a run that crashes or is
interrupted still leaves every event recorded up to that moment.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from checkers.formats.jsonl import HistoryWriter
from checkers.history import NEMESIS, Event


class Recorder:
    """Stamps events with test-relative times and hands them to the writer."""

    def __init__(self, path: Path, on_event: Callable[[Event], None] | None = None) -> None:
        self.path = path
        self.on_event = on_event  # sees each event once it is on disk (live progress)
        self._writer = HistoryWriter(path)
        self._start = time.monotonic_ns()
        self.count = 0

    def start_clock(self) -> None:
        """Make now time zero: the test starts when the workload does, not
        when cluster setup began."""
        self._start = time.monotonic_ns()

    def elapsed(self) -> float:
        """Seconds since the test started (the history's clock)."""
        return (time.monotonic_ns() - self._start) / 1e9

    def record(self, process: int | str, type_: str, f: str, **fields: Any) -> Event:
        """Write one event; fields with value None are left out (absent = unknown)."""
        event: dict[str, Any] = {
            "time": time.monotonic_ns() - self._start,
            "process": process,
            "type": type_,
            "f": f,
        }
        for name, value in fields.items():
            if value is not None:
                event[name] = value
        self.count += 1
        written = self._writer.append(event)
        if self.on_event is not None:
            self.on_event(written)
        return written

    def record_nemesis(self, f: str, value: dict[str, Any]) -> Event:
        """A fault event, as the nemesis driver records it (``nemesis.driver.Record``)."""
        return self.record(NEMESIS, "info", f, value=value)

    def close(self) -> None:
        self._writer.close()
