"""Backends for nemesis tests: each capability as a recorder of its calls."""

from __future__ import annotations

from collections.abc import Collection

from nemesis.capabilities import ClockControl, Grudge, NetworkFaults, ProcessControl


class Recorder:
    def __init__(self, calls: list[tuple] | None = None) -> None:
        self.calls: list[tuple] = [] if calls is None else calls


class RecordedProcesses(Recorder):
    async def kill(self, node: str) -> None:
        self.calls.append(("kill", node))

    async def start(self, node: str) -> None:
        self.calls.append(("start", node))

    async def pause(self, node: str) -> None:
        self.calls.append(("pause", node))

    async def resume(self, node: str) -> None:
        self.calls.append(("resume", node))


class RecordedNetwork(Recorder):
    """Answers probes as its partition says; ``silent`` ones record but never cut."""

    def __init__(self, calls: list[tuple] | None = None, silent: bool = False) -> None:
        super().__init__(calls)
        self.silent = silent
        self.grudge: Grudge = {}

    async def partition(self, grudge: Grudge) -> None:
        self.calls.append(("partition", grudge))
        if not self.silent:
            self.grudge = grudge

    async def heal(self) -> None:
        self.calls.append(("heal",))
        self.grudge = {}

    async def answers(self, src: str, dsts: Collection[str]) -> dict[str, bool]:
        return {dst: dst not in self.grudge.get(src, ()) and src not in self.grudge.get(dst, ())
                for dst in dsts}

    async def set_link_delay(self, delay_ms: float, jitter_ms: float = 0.0,
                             loss: float = 0.0) -> None:
        self.calls.append(("delay", delay_ms, jitter_ms, loss))

    async def clear_link_delay(self) -> None:
        self.calls.append(("clear-delay",))


class RecordedClock(Recorder):
    async def skew_clock(self, node: str, offset_s: float) -> None:
        self.calls.append(("skew", node, offset_s))


RECORDERS: dict[type, type[Recorder]] = {
    ProcessControl: RecordedProcesses, NetworkFaults: RecordedNetwork, ClockControl: RecordedClock}


class FakeBackend:
    """Offers the given capability objects (all three recorders, sharing one call
    list, by default) and nothing else."""

    def __init__(self, *offered: object) -> None:
        self.calls: list[tuple] = []
        self.offered = offered or tuple(recorder(self.calls) for recorder in RECORDERS.values())

    def capability(self, kind: type) -> object | None:
        return next((o for o in self.offered if isinstance(o, kind)), None)
