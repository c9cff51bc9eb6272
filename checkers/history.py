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
from typing import TYPE_CHECKING, Annotated, Any, Literal

import msgspec

if TYPE_CHECKING:
    from checkers.columns import Columns

EventType = Literal["invoke", "ok", "fail", "info"]
Process = int | str
Version = tuple[int, str]

# From this many ops the checkers sweep the history's columns (History.columns,
# numpy) rather than its ops one by one: below it, numpy's import alone
# (0.085 s) costs more than the sweeps save.
BULK_FROM = 20_000

NEMESIS = "nemesis"
FINAL = "final"
FINAL_READ = "final-read"  # f of the final phase's per-node reads
QUIESCE = "quiesce"  # f of the final phase's convergence report

# What every event must satisfy; the jsonl reader has msgspec enforce it while
# decoding (checkers.formats.jsonl).
_Count = Annotated[int, msgspec.Meta(ge=0)]
_Name = Annotated[str, msgspec.Meta(min_length=1)]


# Events and ops are msgspec Structs rather than dataclasses: a million-op
# history holds three million of them, and Structs are built in C straight from
# JSON, are smaller, and (gc=False: they never form cycles) cost the cyclic
# garbage collector nothing.
class Event(msgspec.Struct, gc=False):
    """One line of a history: an invocation or a completion."""

    index: _Count
    time: _Count  # nanoseconds since the test started (monotonic)
    process: _Count | _Name
    type: EventType
    f: _Name
    key: str | None = None
    value: Any = None
    version: Version | None = None
    node: str | None = None
    error: str | None = None


class Op(msgspec.Struct, gc=False):
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
    _by_key: dict[Any, list[Op]] | None = field(default=None, repr=False, compare=False)
    _columns: Columns | None = field(default=None, repr=False, compare=False)

    def ops_by_key(self) -> dict[Any, list[Op]]:
        """The ops grouped by key (lists as tuples), each group in ``ops`` order.

        Computed once and shared by the checkers, which all work key by key; so
        ``ops`` must not change once a checker has run.
        """
        if self._by_key is None:
            groups: dict[Any, list[Op]] = {}
            for op in self.ops:
                key = op.key
                if key is not None and type(key) is not str:
                    key = freeze(key)
                group = groups.get(key)
                if group is None:
                    groups[key] = [op]
                else:
                    group.append(op)
            self._by_key = groups
        return self._by_key

    def columns(self) -> Columns:
        """The ops' fields as arrays (checkers.columns), computed once like
        ``ops_by_key`` and shared by the checkers that sweep all ops at once."""
        if self._columns is None:
            # numpy is imported here, not at the top: a small history's checks
            # may never need it.
            from checkers.columns import columns_of

            self._columns = columns_of(self.ops, self.source)
        return self._columns


def freeze(value: Any) -> Any:
    """Lists (EDN vectors, JSON arrays) as tuples and maps as sorted pairs, so
    that keys can group ops and values can be states."""
    if type(value) is str:  # the common case, first: called once per op
        return value
    if isinstance(value, list | tuple):
        return tuple(freeze(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((freeze(k), freeze(v)) for k, v in value.items()))
    return value


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


class PairingError(ValueError):
    """An event that cannot be paired: ``kind`` says why, ``position`` is the
    event's and ``related`` the invoke it clashes with (formats put it in words)."""

    def __init__(self, kind: Literal["orphan", "reinvoked", "crashed", "mismatch"],
                 position: int, related: int | None = None) -> None:
        super().__init__(kind, position, related)
        self.kind, self.position, self.related = kind, position, related


def pair_ops(events: list[Event], *, strict: bool = False,
             crashed_processes_stop: bool = False) -> list[Op]:
    """Pair each client invoke with the next completion of the same process.

    Nemesis events, and the final phase's convergence report, stand alone. An
    invoke still open at the end of the history becomes ``info`` with no
    completion time. Ops come in invocation order.

    Not ``strict`` (a history being recorded), a completion without an invoke
    is skipped and an invoke while another is open leaves that one open. A
    loader is ``strict``: an event that does not pair means the file was cut or
    mixed up, and any verdict would be wrong, so it raises PairingError, as it
    does for a completion whose f or key differs from its invoke's. With
    ``crashed_processes_stop`` (Jepsen's formats) a process whose op ended
    ``info`` must not invoke again: Jepsen gives the thread a new id, since the
    op may still be in flight.

    One pass with no call per event: it runs on millions.
    """
    slots: list[Op | Event] = []
    open_ops: dict[Process, int] = {}  # process -> slot of its open invoke
    crashed: dict[Process, int] = {}  # process -> position of its info completion
    positions: list[int] = []  # event position of each slot, for errors
    for position, event in enumerate(events):
        process = event.process
        if process == NEMESIS:
            continue
        if event.type == "invoke":
            unfinished = open_ops.get(process)
            if unfinished is not None or process in crashed:
                if strict and unfinished is not None:
                    raise PairingError("reinvoked", position, positions[unfinished])
                if strict and crashed_processes_stop:
                    raise PairingError("crashed", position, crashed[process])
                if unfinished is not None:
                    slots[unfinished] = _open_op(slots[unfinished])
            open_ops[process] = len(slots)
            slots.append(event)
            positions.append(position)
            continue
        slot = open_ops.pop(process, None)
        if slot is None:
            if strict and not (process == FINAL and event.f == QUIESCE):
                raise PairingError("orphan", position)
            continue
        invoke = slots[slot]
        f, kind = invoke.f, event.type
        if strict and (f != event.f or invoke.key != event.key):
            raise PairingError("mismatch", position, positions[slot])
        if f in READ_FUNCTIONS or (kind == "ok" and event.value is not None):
            value = event.value  # what a read returned; what an ok says happened
        else:
            value = invoke.value
        if kind == "info":
            crashed[process] = position
        slots[slot] = Op(
            invoke.index, process, f, invoke.key, kind, value, invoke.time,
            None if kind == "info" else event.time, event.index, event.version,
            invoke.node or event.node, event.error,
        )
    for slot in open_ops.values():
        slots[slot] = _open_op(slots[slot])
    return slots  # type: ignore[return-value]  # every slot is an Op by now


def _open_op(invoke: Event) -> Op:
    """An invoke never completed: info, and it may take effect at any later time."""
    return Op(
        invoke.index, invoke.process, invoke.f, invoke.key, "info",
        None if invoke.f in READ_FUNCTIONS else invoke.value, invoke.time, None,
        node=invoke.node,
    )
