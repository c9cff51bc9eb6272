"""The cluster backend interface: mechanism only; decisions live in nemesis/.

A backend starts replica nodes, gives the controller addresses to reach them,
and offers the capabilities it has (``nemesis.capabilities``: process control,
network faults, clock). Every capability method is idempotent where that makes
sense (healing a healed cluster, resuming a running node) so that teardown can
always run.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from harness.owner import Owner
from nemesis.capabilities import CapabilityT, ClockControl, NetworkFaults, ProcessControl


@dataclass(frozen=True)
class ClusterSpec:
    """Everything a backend needs to start a cluster of replica nodes."""

    run_id: str  # unique per run; labels every resource the run creates
    run_dir: Path  # logs go to run_dir / "nodes" / "<id>.log"
    nodes: tuple[str, ...]  # node ids, e.g. ("n1", ..., "n5")
    n: int
    r: int
    w: int
    bugs: tuple[str, ...] = ()
    allow_weak_quorum: bool = False
    anti_entropy_interval: float = 0.5
    request_timeout: float = 0.5
    # Third-party implementation: a command template with {id} {listen} {peers}
    # {data_dir} {n} {r} {w}; None runs the reference replica.
    replica_cmd: str | None = None
    # Third-party implementation as a Docker image (docker backend): each node
    # runs it, started with replica_cmd when given, else with its own entrypoint.
    replica_image: str | None = None
    # "coordinator": clients use each node's public API. "client": each node
    # also gets a fan-out client agent (python -m replica.agent) living at that
    # node's network position, so its clients suffer that node's partitions.
    mode: str = "coordinator"
    extra_env: dict[str, str] = field(default_factory=dict)
    # Who keeps the cluster alive: recorded on every resource, so that a sweeper
    # removes them once this process is gone (the controller, by default).
    owner: Owner = field(default_factory=Owner.current)


class Backend(abc.ABC):
    """Start, reach and tear down a cluster; fault it through its capabilities."""

    CAPABILITIES: ClassVar[frozenset[type]] = frozenset()
    """What this kind of backend can offer (the CLI refuses faults outside it)."""

    def __init__(self, spec: ClusterSpec) -> None:
        self.spec = spec

    def capability(self, kind: type[CapabilityT]) -> CapabilityT | None:
        """The object offering capability ``kind``, or None when this backend lacks it.

        By default the backend implements what it declares in CAPABILITIES itself."""
        return self if kind in self.CAPABILITIES else None  # type: ignore[return-value]

    # lifecycle
    @abc.abstractmethod
    async def setup(self) -> None:
        """Create and start every node (does not wait for health)."""

    @abc.abstractmethod
    async def teardown(self) -> None:
        """Stop and remove everything this run started. Safe to call twice."""

    # addresses
    @abc.abstractmethod
    def public_url(self, node: str) -> str:
        """Base URL (http://host:port) the controller uses to reach `node`'s API."""

    @abc.abstractmethod
    def client_url(self, home: str) -> str:
        """Where a client whose home is `home` sends its ops: the node's public
        API in coordinator mode, the fan-out agent at `home` in client mode."""

    async def heal_all(self) -> None:
        """Undo every fault the backend can cause: heal, clear delay, resume and
        start every node, set every clock back."""
        network = self.capability(NetworkFaults)
        processes = self.capability(ProcessControl)
        clock = self.capability(ClockControl)
        if network is not None:
            await network.heal()
            await network.clear_link_delay()
        for node in self.spec.nodes:
            if processes is not None:
                await processes.resume(node)
                await processes.start(node)
            if clock is not None:
                await clock.skew_clock(node, 0.0)
