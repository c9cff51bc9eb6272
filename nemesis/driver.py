"""Runs a :class:`~nemesis.schedule.Schedule` against a backend and records it.

Every applied action is recorded once, after it took effect, as
``record(f, value)`` with ``f`` one of start-partition/stop-partition, kill/
start, pause/resume, start-delay/stop-delay, skew-clock/reset-clock, and
``value`` the fault's description (plus ``"error"``
when the backend failed, so a fault that did not happen is visible).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from nemesis.faults import Fault
from nemesis.schedule import Schedule


class FaultBackend(Protocol):
    """The part of harness.backends.base.Backend the nemesis uses."""

    async def kill(self, node: str) -> None: ...
    async def start(self, node: str) -> None: ...
    async def pause(self, node: str) -> None: ...
    async def resume(self, node: str) -> None: ...
    async def partition(self, grudge: dict[str, set[str]]) -> None: ...
    async def heal(self) -> None: ...
    async def set_link_delay(self, delay_ms: float, jitter_ms: float = 0.0,
                             loss: float = 0.0) -> None: ...
    async def clear_link_delay(self) -> None: ...
    async def skew_clock(self, node: str, offset_s: float) -> None: ...


Record = Callable[[str, dict[str, Any]], None]

# kind -> (f when starting, f when stopping)
_NAMES = {"kill": ("kill", "start"), "pause": ("pause", "resume"),
          "delay": ("start-delay", "stop-delay"), "clock-skew": ("skew-clock", "reset-clock")}
_PARTITION_NAMES = ("start-partition", "stop-partition")


async def drive(backend: FaultBackend, schedule: Schedule, record: Record,
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


async def apply(backend: FaultBackend, fault: Fault, action: str, record: Record) -> None:
    """Start or stop one fault via the backend (targets in parallel, so a
    majority is killed at once) and record it."""
    names = _NAMES.get(fault.kind, _PARTITION_NAMES)
    f = names[0] if action == "start" else names[1]
    value = fault.describe()
    try:
        await _call(backend, fault, f)
    except Exception as exc:  # the backend's failure is data, not a crash of the test
        value["error"] = f"{type(exc).__name__}: {exc}"
    record(f, value)


def _call(backend: FaultBackend, fault: Fault, f: str) -> Awaitable[Any]:
    if f == "start-partition":
        assert fault.grudge is not None
        return backend.partition({a: set(b) for a, b in fault.grudge.items()})
    if f == "stop-partition":
        return backend.heal()
    if f == "start-delay":
        assert fault.delay is not None
        return backend.set_link_delay(*fault.delay)
    if f == "stop-delay":
        return backend.clear_link_delay()
    if f in ("skew-clock", "reset-clock"):
        offsets = fault.offsets or {}
        return asyncio.gather(*(backend.skew_clock(node, offset if f == "skew-clock" else 0.0)
                                for node, offset in offsets.items()))
    method = getattr(backend, f)
    return asyncio.gather(*(method(node) for node in fault.targets))


async def _wait_until(at: float, stop: asyncio.Event, clock: Callable[[], float]) -> bool:
    """Sleep until ``clock() >= at``; True if ``stop`` was set first."""
    delay = at - clock()
    if delay > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
    return stop.is_set()
