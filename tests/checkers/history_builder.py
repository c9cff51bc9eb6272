"""Build small histories by hand for checker tests: one call per event or op."""

from __future__ import annotations

from typing import Any

from checkers.history import Event, History, Process, Version, pair_ops


class Builder:
    """Appends events with increasing index and time (1 ms apart)."""

    def __init__(self, events: list[Event] | None = None):
        self.events: list[Event] = list(events or [])
        self.open: dict[Process, Event] = {}

    @property
    def time(self) -> int:
        return self.events[-1].time + 1_000_000 if self.events else 0

    def event(self, process: Process, type: str, f: str, key: str | None = None,
              value: Any = None, version: Version | None = None,
              node: str | None = None) -> Event:
        event = Event(len(self.events), self.time, process, type, f, key, value, version, node)
        self.events.append(event)
        return event

    def invoke(self, process: Process, f: str, key: str, value: Any = None,
               node: str | None = None) -> int:
        event = self.event(process, "invoke", f, key, value, node=node)
        self.open[process] = event
        return event.index

    def complete(self, process: Process, type: str = "ok", value: Any = None,
                 version: Version | None = None) -> None:
        invoke = self.open.pop(process)
        if invoke.f == "write" and value is None:
            value = invoke.value
        self.event(process, type, invoke.f, invoke.key, value, version, invoke.node)

    def op(self, process: Process, f: str, key: str, value: Any = None, *, type: str = "ok",
           version: Version | None = None, node: str | None = None) -> int:
        """An op invoked and completed at once; returns its invoke index."""
        index = self.invoke(process, f, key, value if f == "write" else None, node=node)
        self.complete(process, type, value, version)
        return index

    def history(self) -> History:
        return History(events=list(self.events), ops=pair_ops(self.events))
