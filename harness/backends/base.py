"""The cluster backend interface: mechanism only; decisions live in nemesis/.

A backend starts replica nodes, gives the controller addresses to reach them,
and applies faults. Every method is idempotent where that makes sense (healing
a healed cluster, resuming a running node) so that teardown can always run.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from pathlib import Path

from harness.owner import Owner

Grudge = dict[str, set[str]]
"""A partition: node -> the set of nodes whose traffic it drops (directed)."""


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
    # "coordinator": clients use each node's public API. "client": each node
    # also gets a fan-out client agent (python -m replica.agent) living at that
    # node's network position, so its clients suffer that node's partitions.
    mode: str = "coordinator"
    extra_env: dict[str, str] = field(default_factory=dict)
    # Who keeps the cluster alive: recorded on every resource, so that a sweeper
    # removes them once this process is gone (the controller, by default).
    owner: Owner = field(default_factory=Owner.current)


class Backend(abc.ABC):
    """Start, reach, fault and tear down a cluster."""

    def __init__(self, spec: ClusterSpec) -> None:
        self.spec = spec

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

    # process faults
    @abc.abstractmethod
    async def kill(self, node: str) -> None:
        """SIGKILL the node; its data directory survives."""

    @abc.abstractmethod
    async def start(self, node: str) -> None:
        """Start a killed node again with the same data. No-op if running."""

    @abc.abstractmethod
    async def pause(self, node: str) -> None:
        """Freeze the node (SIGSTOP / docker pause)."""

    @abc.abstractmethod
    async def resume(self, node: str) -> None:
        """Unfreeze the node. No-op if running."""

    # network faults
    @abc.abstractmethod
    async def partition(self, grudge: Grudge) -> None:
        """Drop (blackhole, not refuse) traffic as the grudge says; replaces any
        earlier partition."""

    @abc.abstractmethod
    async def heal(self) -> None:
        """Remove every partition."""

    @abc.abstractmethod
    async def set_link_delay(self, delay_ms: float, jitter_ms: float = 0.0,
                             loss: float = 0.0) -> None:
        """Delay (and drop a fraction `loss` of) traffic between nodes."""

    @abc.abstractmethod
    async def clear_link_delay(self) -> None:
        """Remove delay and loss."""

    @abc.abstractmethod
    async def skew_clock(self, node: str, offset_s: float) -> None:
        """Shift the node's wall clock (reference replica: its clock-offset file)."""

    async def heal_all(self) -> None:
        """Undo every fault: heal, clear delay, resume and start every node."""
        await self.heal()
        await self.clear_link_delay()
        for node in self.spec.nodes:
            await self.resume(node)
            await self.start(node)
            await self.skew_clock(node, 0.0)
