"""The op/history model (Jepsen's), shared by every checker and format.

A history is a list of :class:`Event` (one JSON line each in ``history.jsonl``).
Checkers mostly work on :class:`Op`: an invoke paired with its completion.

Process ids: an ``int`` per client thread; ``"nemesis"`` for faults; ``"final"``
for the final phase run after faults are healed:

- ``f="final-read"`` (with ``node``): one node's own copy of ``key`` read from its
  internal API; ``value``/``version`` on the ``ok`` completion.
- ``f="read"``: a quorum read of every key after quiescence; an ordinary read.
- ``f="quiesce"``, ``type="info"``: ``value={"converged": bool, "seconds": float}``,
  how long anti-entropy took to make all replicas agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

EventType = Literal["invoke", "ok", "fail", "info"]
Process = int | str
Version = tuple[int, str]

NEMESIS = "nemesis"
FINAL = "final"
FINAL_READ = "final-read"  # f of the final phase's per-node reads
QUIESCE = "quiesce"  # f of the final phase's convergence report


@dataclass(slots=True)
class Event:
    """One line of a history: an invocation or a completion."""

    index: int
    time: int  # nanoseconds since the test started (monotonic)
    process: Process
    type: EventType
    f: str
    key: str | None = None
    value: Any = None
    version: Version | None = None
    node: str | None = None
    error: str | None = None


@dataclass(slots=True)
class Op:
    """An invocation paired with its completion.

    ``type`` is the completion's type; an invoke never completed is ``info``
    with ``complete_time`` None (it may take effect at any later time).
    ``value`` is what was read (reads, from the completion) or what the op asked
    for (the invoke's, or an ok completion's when it carries one).
    """

    invoke_index: int
    process: Process
    f: str
    key: str | None
    type: EventType
    value: Any
    invoke_time: int
    complete_time: int | None
    complete_index: int | None = None
    version: Version | None = None
    node: str | None = None
    error: str | None = None


@dataclass
class History:
    """A loaded history: raw events plus the client ops paired per process."""

    events: list[Event]
    ops: list[Op] = field(default_factory=list)
    source: str = "<memory>"
    warnings: list[str] = field(default_factory=list)  # one line each, e.g. a torn last line


READ_FUNCTIONS = frozenset({"read", "get", "final-read"})


class _UnknownValue:
    """What an ``ok`` read returned when the client did not learn the value.

    Jepsen's formats write such a read as ``:ok :read nil``, and Jepsen's
    register models accept it in any state; in quorumlab's own jsonl a null
    read is a real answer ("the key is absent"). The EDN and Jepsen-log readers
    therefore translate a nil read into this one value, so every checker sees
    the difference without knowing where the history came from.
    """

    _instance: _UnknownValue | None = None

    def __new__(cls) -> _UnknownValue:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "unknown"


UNKNOWN_VALUE = _UnknownValue()
WRITE_FUNCTIONS = frozenset({"write", "put"})


def version_key(version: Version | None) -> tuple[bool, Version]:
    """Sort key over versions where None (nothing written yet) is the lowest."""
    return (version is not None, version or (0, ""))


def pair_ops(events: list[Event]) -> list[Op]:
    """Pair each client invoke with the next completion of the same process.

    Nemesis events and completions without an invoke are not client ops and are
    skipped here (format loaders reject the latter). An invoke still open at the
    end of the history becomes ``info`` with no completion time.
    """
    ops: list[Op] = []
    open_ops: dict[Process, tuple[Event, int]] = {}
    for event in events:
        if event.process == NEMESIS:
            continue
        if event.type == "invoke":
            open_ops[event.process] = (event, len(ops))
            ops.append(_open_op(event))
            continue
        pending = open_ops.pop(event.process, None)
        if pending is None:
            continue
        invoke, position = pending
        ops[position] = _completed_op(invoke, event)
    return ops


def _open_op(invoke: Event) -> Op:
    return Op(
        invoke_index=invoke.index, process=invoke.process, f=invoke.f, key=invoke.key,
        type="info", value=None if invoke.f in READ_FUNCTIONS else invoke.value,
        invoke_time=invoke.time, complete_time=None, node=invoke.node,
    )


def _completed_op(invoke: Event, completion: Event) -> Op:
    """A read's value is what it returned; any other op's is what it asked for,
    unless an ``ok`` completion says what happened (Jepsen fills the invocation
    in from the ok completion)."""
    told = invoke.f in READ_FUNCTIONS or (completion.type == "ok" and completion.value is not None)
    value = completion.value if told else invoke.value
    return Op(
        invoke_index=invoke.index, process=invoke.process, f=invoke.f, key=invoke.key,
        type=completion.type,
        value=value,
        invoke_time=invoke.time,
        complete_time=None if completion.type == "info" else completion.time,
        complete_index=completion.index, version=completion.version,
        node=invoke.node or completion.node, error=completion.error,
    )
