"""The history recorder: appends events to history.jsonl as they happen.

Each line is written and flushed at once, so a run that crashes or is
interrupted still leaves every event recorded up to that moment.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import IO, Any

import orjson


class Recorder:
    """Assigns indexes and test-relative times, and writes one JSON line per event."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file: IO[bytes] = open(path, "ab")  # noqa: SIM115 - closed in close()
        self._start = time.monotonic_ns()
        self._index = 0

    def elapsed(self) -> float:
        """Seconds since the test started (the history's clock)."""
        return (time.monotonic_ns() - self._start) / 1e9

    def record(self, process: int | str, type_: str, f: str, **fields: Any) -> dict[str, Any]:
        """Write one event; fields with value None are left out (absent = unknown)."""
        event: dict[str, Any] = {
            "index": self._index,
            "time": time.monotonic_ns() - self._start,
            "process": process,
            "type": type_,
            "f": f,
        }
        for name, value in fields.items():
            if value is not None:
                event[name] = value
        self._index += 1
        self._file.write(orjson.dumps(event) + b"\n")
        self._file.flush()
        return event

    @property
    def count(self) -> int:
        return self._index

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
