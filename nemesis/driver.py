"""Runs a :class:`~nemesis.schedule.Schedule` against a backend and records it.

Every applied action is recorded once, after it took effect, as
``record(f, value)``: ``f`` is the kind's start or stop event
(``nemesis.kinds``) and ``value`` the fault's description, plus ``"error"``
when the backend failed or lacks the capability, so a fault that did not
happen is visible in the history. A started fault whose kind can be probed
is then checked, and the check recorded as ``check-fault`` (``took_effect``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, Literal

from nemesis.capabilities import CAPABILITY_NAMES, Capabilities
from nemesis.faults import Fault
from nemesis.kinds import KINDS
from nemesis.schedule import Schedule

Record = Callable[[str, dict[str, Any]], None]
CHECK_EVENT = "check-fault"


async def drive(backend: Capabilities, schedule: Schedule, record: Record,
                stop: asyncio.Event, clock: Callable[[], float]) -> None:
    """Apply each step at its time until ``stop`` is set; then heal what is still
    in effect (also when cancelled), so the cluster is left as it was found."""
    active: Fault | None = None
    try:
        for step in schedule:
            if await _wait_until(step.at, stop, clock):
                break
            if step.action == "start":
                await apply(backend, step.fault, "start", record)
                active = step.fault
            else:
                active = None
                await apply(backend, step.fault, "stop", record)
    finally:
        if active is not None:
            await apply(backend, active, "stop", record)


async def apply(backend: Capabilities, fault: Fault, action: Literal["start", "stop"],
                record: Record) -> None:
    """Start or stop one fault through the capability its kind drives, and record it."""
    kind = KINDS[fault.kind]
    value = fault.describe()
    mechanism = backend.capability(kind.capability)
    try:
        if mechanism is None:
            raise LookupError(f"the backend offers no {CAPABILITY_NAMES[kind.capability]}")
        await (kind.start if action == "start" else kind.stop)(mechanism, fault)
    except Exception as exc:  # the backend's failure is data, not a crash of the test
        value["error"] = f"{type(exc).__name__}: {exc}"
    record(kind.events[0] if action == "start" else kind.events[1], value)
    if action == "start" and "error" not in value:
        try:
            check = await kind.check(mechanism, fault)
        except Exception as exc:
            check = {"took_effect": False, "wrong": [f"probe failed: {exc}"]}
        if check is not None:
            record(CHECK_EVENT, {"kind": fault.kind, "nodes": value["nodes"], **check})


async def _wait_until(at: float, stop: asyncio.Event, clock: Callable[[], float]) -> bool:
    """Sleep until ``clock() >= at``; True if ``stop`` was set first."""
    delay = at - clock()
    if delay > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
    return stop.is_set()
