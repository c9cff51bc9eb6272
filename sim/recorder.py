"""The simulated run's history: the same events as ``history.jsonl``, stamped
with virtual time, kept in memory (a search runs thousands of histories and
writes only the one it shows)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from checkers.formats.jsonl import event_to_dict
from checkers.history import Event, History, pair_ops
from sim.loop import Loop


class SimRecorder:
    """Events in recording order; index order is virtual-time order."""

    def __init__(self, loop: Loop) -> None:
        self.loop = loop
        self.events: list[Event] = []

    def record(self, process: int | str, type_: str, f: str, key: str | None = None,
               value: Any = None, version: Any = None, node: str | None = None,
               error: str | None = None) -> Event:
        event = Event(len(self.events), round(self.loop.now * 1e9), process, type_, f, key,
                      value, None if version is None else (version[0], version[1]), node,
                      error)
        self.events.append(event)
        return event

    def history(self) -> History:
        return History(events=self.events, ops=pair_ops(self.events), source="<simulation>")

    @staticmethod
    def write_events(events: list[Event], path: Path) -> None:
        """``history.jsonl``, line for line as the harness writes it."""
        path.write_bytes(b"".join(orjson.dumps(event_to_dict(e)) + b"\n" for e in events))
