"""What a system under test is to the harness: Jepsen's db and client in one adapter.

A :class:`System` says where its nodes can run (which backends), how a backend
starts them, which ops its client can issue and which fault mechanisms make
sense for it; :meth:`System.client` gives the async :class:`SystemClient` the
workers use. The runner, the workload and the checkers know nothing of any
one system: adding one is a subclass, registered by name (registry.py).

An outcome follows DESIGN.md: ``ok`` with what the store said, ``fail`` only
when the op certainly did not take effect, ``info`` otherwise. A read has no
effect, so a read that did not complete may be ``fail``.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from harness.client import Outcome
from nemesis.capabilities import ClockControl, NetworkFaults, ProcessControl

if TYPE_CHECKING:
    import aiohttp

    from harness.backends.base import Backend, ClusterSpec
    from harness.config import RunConfig
    from harness.recorder import Recorder

OPS = ("read", "write", "cas")


class SystemNotReady(RuntimeError):
    """The nodes did not become ready in time (a harness failure, not a verdict)."""


@dataclass(frozen=True)
class Option:
    """One ``--system-opt KEY=VALUE`` a system understands."""

    help: str
    default: str | None = None  # None: required
    choices: tuple[str, ...] = ()


class SystemClient(abc.ABC):
    """One op in, one :class:`~harness.client.Outcome` out, against one node.

    ``address`` is what :meth:`homes` gave for the worker's home node; only the
    client knows what it means (a URL, a node id)."""

    @abc.abstractmethod
    def homes(self) -> list[tuple[str, str]]:
        """(node, address) for each node a client worker can live at."""

    @abc.abstractmethod
    async def ready(self, limit: float) -> None:
        """Return once every node serves; SystemNotReady after ``limit`` seconds."""

    @abc.abstractmethod
    async def read(self, address: str, key: str) -> Outcome: ...

    @abc.abstractmethod
    async def write(self, address: str, key: str, value: Any) -> Outcome: ...

    async def cas(self, address: str, key: str, old: Any, new: Any) -> Outcome:
        """Compare-and-set; only systems whose ``ops`` name cas are ever asked."""
        raise NotImplementedError(f"{type(self).__name__} has no cas")

    async def final(self, keys: Sequence[str], recorder: Recorder) -> None:
        """After every fault is healed: one read of every key, recorded by the
        final process (systems that can read each replica's own copy do more)."""
        from checkers.history import FINAL

        homes = self.homes()
        for i, key in enumerate(keys):
            recorder.record(FINAL, "invoke", "read", key=key)
            outcome = await self.read(homes[i % len(homes)][1], key)
            recorder.record(FINAL, outcome.type, "read", key=key, value=outcome.value,
                            version=outcome.version, error=outcome.error)

    def statistics(self) -> dict[str, Any] | None:
        """What the system's traffic looked like (results.json "system"), if known."""
        return None


class System(abc.ABC):
    """A kind of store the harness can test. Subclasses fill in the class
    attributes, :meth:`create_backend` and :meth:`client`."""

    name: ClassVar[str]
    help: ClassVar[str]  # one phrase for `quorumlab systems`
    backends: ClassVar[tuple[str, ...]]  # where its nodes run; the first is what auto picks
    ops: ClassVar[frozenset[str]] = frozenset({"read", "write"})
    options: ClassVar[Mapping[str, Option]] = {}
    # The fault mechanisms that mean something to this system (a clock skew
    # means nothing to a store that never reads its clock).
    fault_capabilities: ClassVar[frozenset[type]] = frozenset(
        {ProcessControl, NetworkFaults, ClockControl})
    # Whether a clock skew reaches the nodes: None when it does (the reference
    # replica reads its offset file; libfaketime moves a program that reads the
    # clock through libc), else why not, for the one-line refusal.
    clock_unreachable: ClassVar[str | None] = None
    # The checker that judges the consistency it claims, which is what a run
    # holds it to: "linearizability", or "read-after-write" (an S3 store's
    # weaker claim: checkers/read_after_write.py). Judging a store by a model it
    # never claimed turns its allowed histories into false alarms.
    claim_checker: ClassVar[str] = "linearizability"

    def __init__(self, options: Mapping[str, str] | None = None) -> None:
        self.opts = resolve_options(self.name, self.options, options or {})

    @classmethod
    def offered_capabilities(cls, backend: str) -> frozenset[type]:
        """What faults can do to this system on ``backend``."""
        offered = cls.backend_type(backend).CAPABILITIES & cls.fault_capabilities
        return offered - {ClockControl} if cls.clock_unreachable else offered

    @classmethod
    def backend_type(cls, backend: str) -> type[Backend]:
        """The class :meth:`create_backend` instantiates for ``backend``."""
        from harness.backends import backend_class

        return backend_class(backend)

    def validate(self, config: RunConfig) -> None:
        """ValueError (one line) when ``config`` asks what this system cannot be."""
        return None  # most systems take any cluster size

    @abc.abstractmethod
    def create_backend(self, backend: str, spec: ClusterSpec) -> Backend:
        """A backend that starts this system's nodes for ``spec``."""

    @abc.abstractmethod
    def client(self, backend: Backend, session: aiohttp.ClientSession,
               config: RunConfig) -> SystemClient:
        """The client workers use against the nodes ``backend`` started."""


def resolve_options(system: str, known: Mapping[str, Option],
                    given: Mapping[str, str]) -> dict[str, str]:
    """``given`` completed with defaults; ValueError (one line) for a bad one."""
    unknown = sorted(set(given) - set(known))
    if unknown:
        choices = ", ".join(known) or "none"
        raise ValueError(f"--system-opt {unknown[0]}: the {system} system has no such "
                         f"option (its options: {choices})")
    resolved: dict[str, str] = {}
    for name, option in known.items():
        value = given.get(name, option.default)
        if value is None:
            raise ValueError(f"the {system} system needs --system-opt {name}=... "
                             f"({option.help})")
        if option.choices and value not in option.choices:
            raise ValueError(f"--system-opt {name}={value}: choose from "
                             f"{', '.join(option.choices)}")
        resolved[name] = value
    return resolved


def parse_system_opts(pairs: Sequence[str]) -> dict[str, str]:
    """``["bin=./x", "args=-v"]`` -> dict; ValueError (one line) for a bad pair."""
    opts: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--system-opt {pair!r}: write KEY=VALUE")
        opts[key.strip()] = value
    return opts
