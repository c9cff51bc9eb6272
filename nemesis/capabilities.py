"""What a backend can do to a cluster, as small capabilities (Jepsen's db, net, clock).

A fault kind names the one capability it drives; a backend offers the
capabilities it has, and says which through :meth:`Capabilities.capability`.
A backend that cannot cut links (the local backend without its proxies, an SSH
host without iptables) simply does not offer :class:`NetworkFaults`, so the
faults that need it are refused before a run starts instead of failing in it.

The Protocols live here, not in harness/, because the nemesis drives them and
must not import the harness (the dependency runs the other way).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol, TypeVar, runtime_checkable

Grudge = dict[str, frozenset[str]]
"""A partition: ``grudge[a]`` is the set of nodes whose traffic ``a`` drops (directed)."""


@runtime_checkable
class ProcessControl(Protocol):
    """Crash and freeze a node's processes. Starting a running node and resuming
    one that is not paused are no-ops, so healing can always run."""

    async def kill(self, node: str) -> None: ...
    async def start(self, node: str) -> None: ...
    async def pause(self, node: str) -> None: ...
    async def resume(self, node: str) -> None: ...


@runtime_checkable
class NetworkFaults(Protocol):
    """Drop (blackhole, not refuse), delay and lose traffic between nodes. A new
    partition replaces the previous one; healing a healed cluster is a no-op."""

    async def partition(self, grudge: Grudge) -> None: ...
    async def heal(self) -> None: ...
    async def set_link_delay(self, delay_ms: float, jitter_ms: float = 0.0,
                             loss: float = 0.0) -> None: ...
    async def clear_link_delay(self) -> None: ...
    async def answers(self, src: str, dsts: Collection[str]) -> dict[str, bool]:
        """Which of ``dsts`` answer a request sent from ``src``'s network position
        now: a round trip, so a drop in either direction means no answer."""
        ...


@runtime_checkable
class ClockControl(Protocol):
    """Shift a node's wall clock by ``offset_s`` seconds (0 sets it back)."""

    async def skew_clock(self, node: str, offset_s: float) -> None: ...


CapabilityT = TypeVar("CapabilityT")

CAPABILITY_NAMES: dict[type, str] = {
    ProcessControl: "process control",
    NetworkFaults: "network faults",
    ClockControl: "clock control",
}



class Capabilities(Protocol):
    """What the nemesis needs of a backend: the object offering a capability, or None."""

    def capability(self, kind: type[CapabilityT]) -> CapabilityT | None: ...
