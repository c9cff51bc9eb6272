"""The quorum protocol (multi-writer ABD) as sans-I/O state machines.

Each operation is an object fed events (a replica's reply, a request that
failed, a phase timer that expired) that answers with actions (messages to send,
timers to arm) and, eventually, an outcome. Nothing here touches a socket or a
clock, so the node coordinator, the fan-out client and unit tests (or a
simulator with virtual time) drive the very same code.

Correct protocol:

- write: phase 1 reads versions from r replicas; phase 2 sends
  (max.counter + 1, writer) to every replica and waits for w acks.
- read: phase 1 reads from r replicas and takes the highest version; if fewer
  than w replicas are known to hold it, phase 2 writes it back and waits until w
  do. Only then is the value returned (this is what makes reads monotonic).

Every phase asks every replica at once and counts the first r (or w) answers,
as Dynamo does. Asking only r at first and the rest after a hedge saves
messages, but a replica cut off by a partition (its packets dropped, not
refused) then stalls the round for the whole hedge, and a harness records
almost no ops in exactly the fault windows where quorum bugs show. Bug
switches (each a realistic mistake) change exactly one step; see ``BUGS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from replica.version import Version

NO_READ_REPAIR = "no-read-repair"
EARLY_ACK = "early-ack"
LOCAL_VERSION = "local-version"
WALL_CLOCK = "wall-clock"
ASYNC_COMMIT = "async-commit"
AMNESIA = "amnesia"

BUGS: dict[str, str] = {
    NO_READ_REPAIR: "a read returns the highest of r replies without writing it back "
    "(non-monotonic reads)",
    EARLY_ACK: "a write is acknowledged after w-1 acks (stale reads)",
    LOCAL_VERSION: "version = local counter + 1, with no quorum read first "
    "(version collisions, lost writes)",
    WALL_CLOCK: "version counter = the node's wall clock in microseconds: last write wins "
    "by time (lost writes under clock skew)",
    ASYNC_COMMIT: "acknowledge before the write is durable; flush once a second "
    "(lost writes on crash)",
    AMNESIA: "start with an empty store after a restart (lost writes)",
}
"""Every bug switch and what it breaks; the protocol ones act in this module."""


# Messages (the transport turns them into requests to the internal API).
@dataclass(frozen=True, slots=True)
class Get:
    """Ask a replica for its copy of a key."""

    key: str


@dataclass(frozen=True, slots=True)
class Put:
    """Ask a replica to store (value, version) if newer than its copy."""

    key: str
    value: Any
    version: Version


# Actions returned to the driver.
class Send(NamedTuple):
    """Send `msg` to `node`; feed the answer back tagged with `phase`.

    A tuple, not a dataclass like the rest: one is made per message, and a
    frozen dataclass costs a ``__setattr__`` call per field (the simulator's
    largest single cost after its event heap)."""

    node: str
    phase: int
    msg: Get | Put


@dataclass(frozen=True, slots=True)
class ArmTimer:
    """Start the request timer of `phase`; feed ``Timeout(phase)`` when it fires."""

    phase: int


Action = Send | ArmTimer


# Events fed in by the driver.
@dataclass(frozen=True, slots=True)
class Reply:
    """A replica answered: its copy (for Get) or its stored version after (for Put)."""

    node: str
    phase: int
    value: Any
    version: Version | None


@dataclass(frozen=True, slots=True)
class NoReply:
    """A request failed. ``delivered`` False means it certainly never reached the
    replica (connection refused); True means it may have (timeout, reset)."""

    node: str
    phase: int
    delivered: bool
    reason: str


@dataclass(frozen=True, slots=True)
class Timeout:
    """The request timeout of `phase` expired."""

    phase: int


Event = Reply | NoReply | Timeout


# Outcomes.
@dataclass(frozen=True, slots=True)
class ReadResult:
    value: Any
    version: Version | None


@dataclass(frozen=True, slots=True)
class WriteResult:
    version: Version


@dataclass(frozen=True, slots=True)
class Failed:
    """The quorum was not reached; ``definite`` as in ``replica.errors.QuorumError``."""

    message: str
    definite: bool


Outcome = ReadResult | WriteResult | Failed


class _Phase:
    """Bookkeeping for one round of requests to a set of replicas."""

    def __init__(self, number: int, nodes: list[str], msg: Get | Put) -> None:
        self.number = number
        self.msg = msg
        self.nodes = list(nodes)
        self.pending = set(nodes)
        self.answered: dict[str, Reply] = {}
        self.undelivered: set[str] = set()  # certainly never reached the replica
        self.errors: list[str] = []

    def record(self, event: Reply | NoReply) -> bool:
        """Note an answer; False if it is a duplicate or from a replica not asked."""
        if event.node not in self.pending:
            return False
        self.pending.discard(event.node)
        if isinstance(event, Reply):
            self.answered[event.node] = event
        else:
            if not event.delivered:
                self.undelivered.add(event.node)
            self.errors.append(f"{event.node}: {event.reason}")
        return True

    @property
    def waiting(self) -> int:
        """Replicas that may still answer."""
        return len(self.pending)

    def why(self) -> str:
        return f" ({'; '.join(self.errors[:3])})" if self.errors else ""


class _Operation:
    """Shared driver-facing surface of reads and writes."""

    def __init__(self, key: str, replicas: list[str], r: int, w: int) -> None:
        if not replicas or not (1 <= r <= len(replicas)) or not (1 <= w <= len(replicas)):
            raise ValueError("need 1 <= r, w <= number of replicas")
        self.key = key
        self.replicas = list(replicas)
        self.r = r
        self.w = w
        self.outcome: Outcome | None = None
        self._phase: _Phase | None = None

    @property
    def done(self) -> bool:
        return self.outcome is not None

    def _open_phase(self, number: int, nodes: list[str], msg: Get | Put) -> list[Action]:
        self._phase = phase = _Phase(number, nodes, msg)
        return [ArmTimer(number)] + [Send(node, number, msg) for node in phase.nodes]

    def _open_read_phase(self) -> list[Action]:
        """Phase 1: ask every replica (in the order given) for its version."""
        return self._open_phase(1, self.replicas, Get(self.key))

    def handle(self, event: Event) -> list[Action]:
        """Feed one event; returns what to do next (nothing once done)."""
        if self.done:
            return []
        phase = self._phase
        assert phase is not None, "start() first"
        if isinstance(event, Timeout):
            return self._on_timeout(event.phase) if event.phase == phase.number else []
        if event.phase != phase.number:
            return self._on_late(event)
        if not phase.record(event):
            return []
        return self._progress()

    def _on_late(self, event: Reply | NoReply) -> list[Action]:
        return []

    def _progress(self) -> list[Action]:
        raise NotImplementedError

    def _on_timeout(self, phase: int) -> list[Action]:
        raise NotImplementedError


class ReadOp(_Operation):
    """A quorum read with write-back (ABD)."""

    def __init__(self, key: str, replicas: list[str], r: int, w: int,
                 bugs: frozenset[str] = frozenset()) -> None:
        super().__init__(key, replicas, r, w)
        self.bugs = bugs
        self._best: Reply | None = None
        self._holders: set[str] = set()

    def start(self) -> list[Action]:
        return self._open_read_phase()

    def _progress(self) -> list[Action]:
        phase = self._phase
        assert phase is not None
        if phase.number == 1:
            if len(phase.answered) >= self.r:
                return self._choose(phase)
            if len(phase.answered) + phase.waiting < self.r:
                self.outcome = Failed(
                    f"read quorum unreachable: {len(phase.answered)} of r={self.r} "
                    f"replicas answered{phase.why()}", definite=True)
            return []
        self._holders.update(phase.answered)
        if len(self._holders) >= self.w:
            self._finish()
        elif len(self._holders) + phase.waiting < self.w:
            self.outcome = Failed(
                f"read write-back reached {len(self._holders)} of w={self.w} "
                f"replicas{phase.why()}", definite=False)
        return []

    def _choose(self, phase: _Phase) -> list[Action]:
        best = max(phase.answered.values(),
                   key=lambda rep: (rep.version is not None, rep.version or Version(0, "")))
        self._best = best
        if best.version is None or NO_READ_REPAIR in self.bugs:
            self._finish()
            return []
        self._holders = {node for node, rep in phase.answered.items()
                         if rep.version == best.version}
        if len(self._holders) >= self.w:
            self._finish()
            return []
        behind = [node for node in self.replicas if node not in self._holders]
        return self._open_phase(2, behind, Put(self.key, best.value, best.version))

    def _on_late(self, event: Reply | NoReply) -> list[Action]:
        # A phase-1 reply arriving during write-back: it holds the value if it
        # already has that version (a newer one would also do, but then it is
        # not this read's value; the write-back Put will be answered anyway).
        if (isinstance(event, Reply) and self._best is not None
                and event.version == self._best.version):
            self._holders.add(event.node)
            if len(self._holders) >= self.w:
                self._finish()
        return []

    def _finish(self) -> None:
        best = self._best
        assert best is not None
        self.outcome = ReadResult(best.value if best.version is not None else None,
                                  best.version)

    def _on_timeout(self, phase: int) -> list[Action]:
        assert self._phase is not None
        if phase == 1:
            self.outcome = Failed(
                f"read timed out: {len(self._phase.answered)} of r={self.r} replicas "
                f"answered{self._phase.why()}", definite=True)
        else:
            self.outcome = Failed(
                f"read write-back timed out: {len(self._holders)} of w={self.w} "
                f"replicas hold the value{self._phase.why()}", definite=False)
        return []


class WriteOp(_Operation):
    """A quorum write: read the highest version, then write counter + 1.

    ``issued``: the last counter per key that this writer id has used, shared by
    all its operations. One writer (a coordinator, an agent) runs many writes at
    once; two of them reading the same highest version must still not write the
    same (counter, writer), so the counter also exceeds what was issued.

    ``fixed_counter`` skips the read phase and uses that counter instead; the
    driver passes it for the ``local-version`` and ``wall-clock`` bugs, which is
    the only place those bugs differ (the core never reads a clock itself).
    """

    def __init__(self, key: str, value: Any, replicas: list[str], r: int, w: int,
                 writer: str, bugs: frozenset[str] = frozenset(),
                 fixed_counter: int | None = None,
                 issued: dict[str, int] | None = None) -> None:
        super().__init__(key, replicas, r, w)
        self.value = value
        self.writer = writer
        self.bugs = bugs
        self.fixed_counter = fixed_counter
        self.issued = issued if issued is not None else {}
        self.version: Version | None = None

    @property
    def acks_needed(self) -> int:
        return self.w - 1 if EARLY_ACK in self.bugs else self.w

    def start(self) -> list[Action]:
        if self.fixed_counter is not None:
            return self._write(self.fixed_counter)
        return self._open_read_phase()

    def _write(self, counter: int) -> list[Action]:
        self.version = Version(counter, self.writer)
        actions = self._open_phase(2, self.replicas, Put(self.key, self.value, self.version))
        if self.acks_needed <= 0:
            self.outcome = WriteResult(self.version)
        return actions

    def _progress(self) -> list[Action]:
        phase = self._phase
        assert phase is not None
        if phase.number == 1:
            if len(phase.answered) >= self.r:
                highest = max((rep.version.counter for rep in phase.answered.values()
                               if rep.version is not None), default=0)
                counter = max(highest, self.issued.get(self.key, 0)) + 1
                self.issued[self.key] = counter
                return self._write(counter)
            if len(phase.answered) + phase.waiting < self.r:
                self.outcome = Failed(
                    f"write's version read unreachable: {len(phase.answered)} of "
                    f"r={self.r} replicas answered{phase.why()}", definite=True)
            return []
        assert self.version is not None
        if len(phase.answered) >= self.acks_needed:
            self.outcome = WriteResult(self.version)
        elif (len(phase.answered) + phase.waiting < self.acks_needed
              and not self._may_still_be_definite(phase)):
            self.outcome = self._write_failed("write quorum unreachable")
        return []

    def _may_still_be_definite(self, phase: _Phase) -> bool:
        """Every request so far surely failed to arrive, and some are pending: those
        decide whether a doomed write failed definitely, so wait for them."""
        return bool(phase.pending) and phase.undelivered == set(self.replicas) - phase.pending

    def _write_failed(self, what: str) -> Failed:
        phase = self._phase
        assert phase is not None
        # Definite only if no replica can hold it: every request surely undelivered.
        definite = phase.undelivered == set(self.replicas)
        return Failed(f"{what}: {len(phase.answered)} of w={self.w} replicas acknowledged"
                      f"{phase.why()}", definite=definite)

    def _on_timeout(self, phase: int) -> list[Action]:
        if phase == 1:
            assert self._phase is not None
            self.outcome = Failed(
                f"write's version read timed out: {len(self._phase.answered)} of "
                f"r={self.r} replicas answered{self._phase.why()}", definite=True)
        else:
            self.outcome = self._write_failed("write timed out")
        return []
