"""The faults a run applied, read back from the nemesis's events in its history.

One list serves every reader: the plots and timelines shade its windows, the
report tabulates it (kind, nodes, start, end, did it take effect) and the
statistics measure availability inside each window. The nemesis records a
start event, then (for a kind it can probe) a ``check-fault`` event, then a
stop event; a start whose backend call failed carries ``"error"``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from checkers.history import NEMESIS, Event
from nemesis.driver import CHECK_EVENT
from nemesis.kinds import KINDS

# What each nemesis event opens or closes, and its colour: from the fault kinds.
FAULT_STARTS = {kind.events[0]: kind.label for kind in KINDS.values()}
FAULT_STOPS = {kind.events[1]: kind.label for kind in KINDS.values()}
FAULT_COLOURS = {kind.label: kind.colour for kind in KINDS.values()}

Window = tuple[float, float, str]  # (start s, stop s, label) of one fault


@dataclass
class AppliedFault:
    """One fault from its start to its stop (or the end of the history)."""

    label: str  # the family the plots shade it as (partition, kill, ...)
    kind: str  # the fault kind's own name (partition-halves, kill, ...)
    nodes: list[str]
    start: float  # seconds since the test started
    stop: float
    healed: bool  # a stop event was recorded (else the run ended inside it)
    took_effect: bool | None  # None: the kind cannot be probed
    problem: str | None  # why it did not take effect, in a few words
    value: dict[str, Any]

    @property
    def window(self) -> Window:
        return (self.start, self.stop, self.label)


def run_end(events: list[Event]) -> float:
    """Seconds from the start to the last event (where an unhealed fault ends)."""
    return max(event.time for event in events) / 1e9


def applied_faults(events: Iterable[Event], end: float) -> list[AppliedFault]:
    """Every fault of the history, in start order."""
    opened: dict[str, AppliedFault] = {}
    faults: list[AppliedFault] = []
    for event in events:
        if event.process != NEMESIS:
            continue
        seconds = event.time / 1e9
        value = event.value if isinstance(event.value, dict) else {}
        if event.f in FAULT_STARTS and FAULT_STARTS[event.f] not in opened:
            error = value.get("error")
            fault = AppliedFault(
                label=FAULT_STARTS[event.f], kind=str(value.get("kind", event.f)),
                nodes=[str(node) for node in value.get("nodes", [])], start=seconds,
                stop=end, healed=False, took_effect=False if error else None,
                problem=str(error) if error else None, value=value)
            opened[fault.label] = fault
            faults.append(fault)
        elif event.f == CHECK_EVENT:
            fault = _probed(opened, value)
            if fault is not None:
                fault.took_effect = bool(value.get("took_effect"))
                wrong = value.get("wrong") or []
                fault.problem = None if fault.took_effect else "; ".join(map(str, wrong[:5]))
        elif event.f in FAULT_STOPS and FAULT_STOPS[event.f] in opened:
            fault = opened.pop(FAULT_STOPS[event.f])
            fault.stop, fault.healed = seconds, True
    return faults


def _probed(opened: dict[str, AppliedFault], check: dict[str, Any]) -> AppliedFault | None:
    """The open fault a probe result is about (its kind's family)."""
    kind = KINDS.get(str(check.get("kind")))
    return opened.get(kind.label) if kind is not None else None


def fault_windows(events: Iterable[Event], end: float) -> list[Window]:
    """(start s, stop s, label) of every fault, from the nemesis's events."""
    return sorted(fault.window for fault in applied_faults(events, end))


def merged_spans(spans: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """(start, stop) spans merged where they overlap: two faults at once count once."""
    merged: list[list[float]] = []
    for start, stop in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], stop)
        else:
            merged.append([start, stop])
    return [(start, stop) for start, stop in merged]
