"""Per-key linearizability of a history, without trusting store versions.

Linearizability is compositional (P-compositionality): a history is
linearizable iff each key's sub-history is, so every key is decided on its
own against a model (checkers.models): by zones when it is a register with
unique written values (checkers.zones), else by search (checkers.wgl). All
keys share one time and memory budget; a key still undecided when it runs out
is ``unknown``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass
from operator import attrgetter, ge, gt
from typing import Any

import msgspec

from checkers import zones
from checkers.collector import paused_gc
from checkers.errors import HistoryError
from checkers.history import BULK_FROM, History, Op, freeze
from checkers.models import CasRegisterModel, Model, RegisterModel, get_model
from checkers.result import Anomaly, CheckResult, combine
from checkers.wgl import ILLEGAL, Interval, Outcome, Search, Transition, search

CHECKER = "linearizability"
# What a violation claims, in words: about the values, not the store's versions
# (that is the graph checker's claim, and both can hold at once).
CLAIM = "no order of these operations explains the values read"
# Estimated memo bytes over all keys before the searches give up as ``unknown``.
DEFAULT_MEMORY_LIMIT = 2 << 30
# Per-node reads of the final phase read one replica's copy, not the object.
NOT_CLIENT_OPS = frozenset({"final-read"})
# Seconds a key's search runs before the next key gets a turn.
TURN = 0.005
# Seconds the searches get to explain more once the zones found a violation.
EXPLAIN_TIME = 1.0
SHOWN_PREFIX = 8  # ops of the prefix named in an explanation
SHOWN_STATES = 6  # states named in an explanation


def check_linearizability(
    history: History,
    *,
    model: str | Model,
    initial: Any = None,
    time_limit: float = 10.0,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
) -> CheckResult:
    """Check every partition (key) of ``history`` against ``model``: a Model, or
    the name of a built-in one ("register", "cas-register", "kv").

    ``initial`` is a built-in model's state before any op (None: its default,
    nil for registers and "" for kv); a Model object knows its own. Failed ops
    never happened and are dropped before the model sees any op. A register key
    whose written values are
    unique is decided at once by zones (checkers.zones); other keys by the
    search (checkers.wgl), in turns of a few milliseconds so that one hard key
    cannot starve the others. Once a key is found not linearizable, the others
    get as much time again as that took and are then left undecided.
    ``time_limit`` (seconds) and ``memory_limit`` (estimated bytes of the memo
    tables of all keys) bound the work; keys undecided then are ``unknown``.
    Raises HistoryError for ops the model cannot interpret and ValueError for
    an unknown model name.
    """
    spec = get_model(model, initial) if isinstance(model, str) else model
    with paused_gc():  # millions of small acyclic objects: 2/3 of the time at 100k ops
        return _check(history, spec, time.monotonic() + time_limit, memory_limit)


def _check(history: History, spec: Model, deadline: float, memory_limit: int) -> CheckResult:
    searches = []
    start = spec.init()
    by_zones = isinstance(spec, RegisterModel)
    cleared = _bulk_cleared(history, spec)
    for key, ops in _partition(history, spec, cleared).items():
        if isinstance(ops, int):  # decided by the zones in bulk: linearizable
            searches.append(_KeySearch(key, [], zones.Verdict(True), size=ops,
                                       outcome=Outcome(True, 0)))
            continue
        kept = _prepare(history, spec, ops)
        current = _KeySearch(key, kept, zones.decide(kept, start) if by_zones else None,
                             size=len(kept))
        searches.append(current)
        if current.zones is not None and current.zones.valid:
            current.outcome = Outcome(True, 0)  # decided: no transitions needed
        else:
            intervals = [Interval(op.invoke_time, op.complete_time) for op in kept]
            transitions = [_transition(spec, op) for op in kept]
            current.run = search(intervals, transitions, _memo_state(spec, start))
    known_invalid = any(s.zones is not None and not s.zones.valid for s in searches)
    _interleave([s for s in searches if s.run is not None], deadline, memory_limit, known_invalid)
    decided = [(s, s.outcome) for s in searches if s.outcome is not None]  # all of them
    keys = {_key_name(s.key): _key_details(s, outcome) for s, outcome in decided}
    return CheckResult(
        checker=CHECKER,
        valid=combine([_verdict(s, outcome) for s, outcome in decided]),
        anomalies=[
            _anomaly(spec, s, outcome) for s, outcome in decided if _verdict(s, outcome) is False
        ],
        details={
            "model": spec.name,
            "keys": keys,
            "unknown_keys": [k for k, v in keys.items() if v["valid"] == "unknown"],
        },
    )


def _by_zones(s: _KeySearch, outcome: Outcome) -> bool:
    """Whether the zones, not the search, decided the key: the shortcut found it
    linearizable, or found it not and the search could not decide in time."""
    return s.zones is not None and (s.run is None or outcome.valid == "unknown")


def _verdict(s: _KeySearch, outcome: Outcome) -> Any:
    return s.zones.valid if s.zones is not None and _by_zones(s, outcome) else outcome.valid


def _key_details(s: _KeySearch, outcome: Outcome) -> dict[str, Any]:
    by_zones = _by_zones(s, outcome)
    return {
        "valid": _verdict(s, outcome),
        "method": "zones" if by_zones else "search",
        "ops": s.size,
        "configs": outcome.configs,
        "memory_estimate": s.memory,
        "seconds": round(s.seconds, 6),
        "reason": None if by_zones else outcome.reason,
    }


@dataclass
class _KeySearch:
    """One key's search in progress."""

    key: Hashable
    ops: list[Op]
    zones: zones.Verdict | None  # None: the unique-value shortcut does not apply
    size: int  # how many ops its check keeps (``ops``, unless decided in bulk)
    run: Search | None = None
    memory: int = 0  # estimated bytes of its memo table
    seconds: float = 0.0
    outcome: Outcome | None = None


def _interleave(
    searches: list[_KeySearch], deadline: float, memory_limit: int, known_invalid: bool
) -> None:
    """Run the searches in turns until each has an outcome or a budget runs out.

    A turn lasts up to TURN seconds, so most keys finish within their first
    turn and free their memo before the next key starts, while a hard key
    cannot starve the others. Once a key is found not linearizable the verdict
    is known; the other keys then get as much time again as that took (to
    report more of them), no more. When the zones already found a key not
    linearizable, the searches only get EXPLAIN_TIME to explain more.
    """
    active = deque(searches)
    began = time.monotonic()
    stop_at = min(deadline, began + EXPLAIN_TIME) if known_invalid else deadline
    while active:
        current = active.popleft()
        others = sum(s.memory for s in active)
        started = now = time.monotonic()
        reason = None
        while current.outcome is None and now - started < TURN:
            try:
                current.memory = next(current.run)
            except StopIteration as stop:
                current.outcome = stop.value
            now = time.monotonic()
            if now > stop_at:
                reason = (
                    "time budget exhausted" if stop_at == deadline
                    else "not finished: another key is already not linearizable"
                )
                break
            if others + current.memory > memory_limit:
                reason = "memory budget exhausted"
                break
        current.seconds += now - started
        if current.outcome is None:
            active.append(current)
        elif current.outcome.valid is False and stop_at == deadline:
            stop_at = min(deadline, now + (now - began))
        if reason is not None:
            for left in active:
                left.run.close()
                left.outcome = Outcome("unknown", None, reason=reason)
            return


def _bulk_cleared(history: History, spec: Model) -> dict[Hashable, int]:
    """The keys the zones decide linearizable for all keys at once
    (zones.bulk_cleared), with how many ops each keeps; none for a model the
    bulk decision does not stand for (any but the built-in registers), or a
    history too small to pay for it (history.BULK_FROM)."""
    initial = spec.init()
    if len(history.ops) < BULK_FROM or type(spec) not in (RegisterModel, CasRegisterModel) or not (
            initial is None or type(initial) is str):
        return {}
    from checkers.columns import FAIL  # numpy: only when the bulk decision applies

    columns = history.columns()
    client_ops = (columns.type != FAIL) & ~columns.of_functions(NOT_CLIENT_OPS)
    cleared = zones.bulk_cleared(columns, initial, client_ops)
    return {columns.keys[k]: size for k, size in cleared.items()}


def _partition(history: History, spec: Model,
               cleared: dict[Hashable, int]) -> dict[Hashable, list[Op] | int]:
    """Client ops that happened or may have, per partition, in invocation order;
    for a key in ``cleared``, its number of ops in their place.

    A failed op did not happen (Jepsen): it constrains nothing, so it is
    dropped here, before any model sees it; a failed cas is no evidence of
    what the register held.
    """
    keys: dict[Hashable, list[Op] | int] = {}
    if type(spec).partition is Model.partition:  # by key: as the history groups them
        # (the columns list the same keys in the same order, without grouping ops)
        order = history.columns().keys if cleared else history.ops_by_key()
        for key in order:
            if key in cleared:
                keys[key] = cleared[key]
                continue
            ops = history.ops_by_key()[key]
            kept = [op for op in ops if op.type != "fail" and op.f not in NOT_CLIENT_OPS]
            if kept:
                keys[key] = kept
    else:
        for op in history.ops:
            if op.type != "fail" and op.f not in NOT_CLIENT_OPS:
                keys.setdefault(spec.partition(op), []).append(op)
    invoked = attrgetter("invoke_time", "invoke_index")
    for ops in keys.values():
        if not isinstance(ops, int) and not _in_invocation_order(ops):
            ops.sort(key=invoked)
    return keys


def _in_invocation_order(ops: list[Op]) -> bool:
    """Whether ``ops`` are already sorted by (invoke time, index): the common
    case, checked in C instead of re-sorting a million ops."""
    times = [op.invoke_time for op in ops]
    if any(map(gt, times, times[1:])):
        return False
    indexes = [op.invoke_index for op in ops]
    return not any(map(ge, indexes, indexes[1:]))


def _prepare(history: History, spec: Model, ops: list[Op]) -> list[Op]:
    """The ops the search needs (``Model.prepare``).

    An optional op that never changes the state can always be left out: it
    might as well never have taken effect.
    """
    try:
        prepared = spec.prepare(ops)
    except ValueError as error:
        raise HistoryError(str(error), path=history.source) from None
    pure = spec.pure
    return [op for op in prepared if op.type != "info" or not pure(op)]


def _transition(spec: Model, op: Op) -> Transition:
    """``spec.step`` for one op, in the search's terms (next state or ILLEGAL).

    The op handed to ``step`` has its value frozen (lists as tuples) once, here,
    rather than at each of the many steps the search takes. With a model's own
    ``equal``, states travel through the search wrapped in :class:`_Compared`,
    so the memo compares them by that ``equal``.
    """
    step, optional = spec.step, op.type == "info"
    value = freeze(op.value)
    if value is not op.value:
        op = msgspec.structs.replace(op, value=value)
    if _has_own_equality(spec):
        equal = spec.equal

        def apply(state: Hashable) -> Hashable:
            legal, new = step(state.state, op)
            if not legal or (optional and equal(new, state.state)):
                return ILLEGAL
            return _Compared(spec, new)
    elif optional:
        def apply(state: Hashable) -> Hashable:
            legal, new = step(state, op)
            return new if legal and new != state else ILLEGAL
    else:
        def apply(state: Hashable) -> Hashable:
            legal, new = step(state, op)
            return new if legal else ILLEGAL

    return Transition(apply, spec.pure(op), optional, (op.f, value))


def _has_own_equality(spec: Model) -> bool:
    return type(spec).equal is not Model.equal


def _memo_state(spec: Model, state: Hashable) -> Hashable:
    return _Compared(spec, state) if _has_own_equality(spec) else state


class _Compared:
    """A state compared by its model's ``equal``.

    Its hash is constant, so memo entries with the same linearized set fall in
    one bucket and are told apart by ``equal`` alone: correct for any model,
    at the price of a scan per bucket.
    """

    __slots__ = ("model", "state")

    def __init__(self, model: Model, state: Hashable) -> None:
        self.model, self.state = model, state

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Compared) and self.model.equal(self.state, other.state)

    def __hash__(self) -> int:
        return 0


def _key_name(key: Hashable) -> str:
    return "(single register)" if key is None else str(key)


def _describe_op(spec: Model, op: Op) -> str:
    return f"#{op.invoke_index} {spec.describe_op(op)} (process {op.process})"


def _plain(state: Hashable) -> Hashable:
    return state.state if isinstance(state, _Compared) else state


def _describe_states(spec: Model, states: list[Hashable]) -> str:
    shown = ", ".join(spec.describe_state(_plain(s)) for s in states[:SHOWN_STATES]) or "none"
    more = len(states) - SHOWN_STATES
    return f"{shown} and {more} more" if more > 0 else shown


def _anomaly(spec: Model, s: _KeySearch, outcome: Outcome) -> Anomaly:
    """Explain in plain words why a key has no linearization."""
    key, ops = s.key, s.ops
    where = "" if key is None else f"key {key}: "
    if s.zones is not None and _by_zones(s, outcome):
        return Anomaly(
            kind="nonlinearizable",
            key=None if key is None else str(key),
            explanation=f"{where}{CLAIM}: {s.zones.reason}.",
            ops=s.zones.ops,
            details={"method": "zones"},
        )
    prefix = outcome.prefix
    if outcome.blocker is None:
        text = f"{where}{CLAIM}: no op can be linearized first."
        return Anomaly("nonlinearizable", None if key is None else str(key), text)
    blocker = ops[outcome.blocker]
    shown = ", ".join(_describe_op(spec, ops[i]) for i in prefix[-SHOWN_PREFIX:])
    if len(prefix) > SHOWN_PREFIX:
        shown = f"..., {shown}"
    text = (
        f"{where}{CLAIM}. The longest linearizable prefix has "
        f"{len(prefix)} ops ({shown or 'none'}), after which the state is "
        f"{spec.describe_state(_plain(outcome.prefix_state))}. "
        f"Op {_describe_op(spec, blocker)} could not be placed: "
    )
    tried = _describe_states(spec, outcome.tried_states)
    if outcome.legal_states:
        legal = _describe_states(spec, outcome.legal_states)
        text += (
            f"it was tried in the states {tried}; it is legal in {legal}, "
            "but every order that places it there fails later."
        )
    else:
        text += f"it is illegal in every state in which it could take effect ({tried})."
    return Anomaly(
        kind="nonlinearizable",
        key=None if key is None else str(key),
        explanation=text,
        ops=[blocker.invoke_index],
        details={
            "prefix": [ops[i].invoke_index for i in prefix],
            "prefix_state": _plain(outcome.prefix_state),
            "blocker": blocker.invoke_index,
            "tried_states": [_plain(state) for state in outcome.tried_states],
            "legal_states": [_plain(state) for state in outcome.legal_states],
        },
    )
