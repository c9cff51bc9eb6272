"""Per-key linearizability of a history, without trusting store versions.

Linearizability is compositional (P-compositionality): a history is
linearizable iff each key's sub-history is, so every key is searched on its
own (checkers.wgl) against a model (checkers.models). All keys share one time
and memory budget; a key still undecided when it runs out is ``unknown``.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from checkers.errors import HistoryError
from checkers.history import History, Op
from checkers.models import Model, Transition, get_model
from checkers.result import Anomaly, CheckResult, combine
from checkers.wgl import Interval, Outcome, Search, search

CHECKER = "linearizability"
# Estimated memo bytes over all keys before the searches give up as ``unknown``.
DEFAULT_MEMORY_LIMIT = 2 << 30
# Per-node reads of the final phase read one replica's copy, not the object.
NOT_CLIENT_OPS = frozenset({"final-read"})
SHOWN_PREFIX = 8  # ops of the prefix named in an explanation
SHOWN_STATES = 6  # states named in an explanation


def check_linearizability(
    history: History,
    *,
    model: str,
    initial: Any = None,
    time_limit: float = 10.0,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
) -> CheckResult:
    """Check every key of ``history`` against ``model`` ("register", "cas-register", "kv").

    ``initial`` is each key's state before any op (None: the model's default,
    nil for registers and "" for kv). Keys are searched in turns of a few
    milliseconds, so one hard key cannot starve the others; once a key is
    found not linearizable, the others get one more turn and are then left
    undecided. ``time_limit`` (seconds) and ``memory_limit`` (estimated bytes
    of the memo tables of all keys) bound the work; keys undecided then are
    ``unknown``.
    Raises HistoryError for ops the model cannot interpret and ValueError for
    an unknown model name.
    """
    spec = get_model(model)
    deadline = time.monotonic() + time_limit
    searches = []
    for key, ops in _partition(history).items():
        kept, transitions = _prepare(history, spec, ops)
        run = search(
            [Interval(op.invoke_time, op.complete_time) for op in kept],
            transitions,
            spec.initial_state(initial),
        )
        searches.append(_KeySearch(key, kept, transitions, run))
    _interleave(searches, deadline, memory_limit)
    keys = {
        _key_name(s.key): {
            "valid": s.outcome.valid,
            "ops": len(s.ops),
            "configs": s.outcome.configs,
            "memory_estimate": s.memory,
            "seconds": round(s.seconds, 6),
            "reason": s.outcome.reason,
        }
        for s in searches
        if s.outcome is not None
    }
    return CheckResult(
        checker=CHECKER,
        valid=combine([s.outcome.valid for s in searches if s.outcome is not None]),
        anomalies=[
            _anomaly(spec, s.key, s.ops, s.transitions, s.outcome)
            for s in searches
            if s.outcome is not None and s.outcome.valid is False
        ],
        details={
            "model": spec.name,
            "keys": keys,
            "unknown_keys": [k for k, v in keys.items() if v["valid"] == "unknown"],
        },
    )


@dataclass
class _KeySearch:
    """One key's search in progress."""

    key: Hashable
    ops: list[Op]
    transitions: list[Transition]
    run: Search
    memory: int = 0  # estimated bytes of its memo table
    seconds: float = 0.0
    outcome: Outcome | None = None


def _interleave(searches: list[_KeySearch], deadline: float, memory_limit: int) -> None:
    """Run the searches in turns until each has an outcome or a budget runs out."""
    active = deque(searches)
    turns_left: int | None = None  # counting down once a key is not linearizable
    while active:
        current = active.popleft()
        started = time.monotonic()
        try:
            current.memory = next(current.run)
        except StopIteration as stop:
            current.outcome = stop.value
        current.seconds += time.monotonic() - started
        if current.outcome is None:
            active.append(current)
        elif current.outcome.valid is False and turns_left is None:
            turns_left = len(active)
        if turns_left is not None:
            turns_left -= 1
        reason = None
        if turns_left is not None and turns_left < 0:
            reason = "not finished: another key is already not linearizable"
        elif time.monotonic() > deadline:
            reason = "time budget exhausted"
        elif sum(s.memory for s in active) > memory_limit:
            reason = "memory budget exhausted"
        if reason is not None:
            for left in active:
                left.run.close()
                left.outcome = Outcome("unknown", None, reason=reason)
            return


def _partition(history: History) -> dict[Hashable, list[Op]]:
    """Client ops per key, each key's ops in invocation order."""
    keys: dict[Hashable, list[Op]] = {}
    for op in history.ops:
        if op.f in NOT_CLIENT_OPS:
            continue
        keys.setdefault(op.key, []).append(op)
    for ops in keys.values():
        ops.sort(key=lambda op: (op.invoke_time, op.invoke_index))
    return keys


def _prepare(history: History, spec: Model, ops: list[Op]) -> tuple[list[Op], list[Transition]]:
    """The ops that constrain the search, with their transitions."""
    kept: list[Op] = []
    transitions: list[Transition] = []
    for op in ops:
        try:
            transition = spec.transition(op)
        except ValueError as error:
            raise HistoryError(f"op #{op.invoke_index}: {error}", path=history.source) from None
        if transition is not None:
            kept.append(op)
            transitions.append(transition)
    return kept, transitions


def _key_name(key: Hashable) -> str:
    return "(single register)" if key is None else str(key)


def _describe_op(op: Op, transition: Transition) -> str:
    return f"#{op.invoke_index} {transition.summary} (process {op.process})"


def _describe_states(spec: Model, states: list[Hashable]) -> str:
    shown = ", ".join(spec.describe(s) for s in states[:SHOWN_STATES]) or "none"
    more = len(states) - SHOWN_STATES
    return f"{shown} and {more} more" if more > 0 else shown


def _anomaly(
    spec: Model,
    key: Hashable,
    ops: list[Op],
    transitions: list[Transition],
    outcome: Outcome,
) -> Anomaly:
    """Explain in plain words why a key has no linearization."""
    where = "" if key is None else f"key {key}: "
    prefix = outcome.prefix
    if outcome.blocker is None:
        text = f"{where}no op can be linearized first."
        return Anomaly("nonlinearizable", None if key is None else str(key), text)
    blocker = ops[outcome.blocker]
    shown = ", ".join(_describe_op(ops[i], transitions[i]) for i in prefix[-SHOWN_PREFIX:])
    if len(prefix) > SHOWN_PREFIX:
        shown = f"..., {shown}"
    text = (
        f"{where}no linearization exists. The longest linearizable prefix has "
        f"{len(prefix)} ops ({shown or 'none'}), after which the state is "
        f"{spec.describe(outcome.prefix_state)}. "
        f"Op {_describe_op(blocker, transitions[outcome.blocker])} could not be placed: "
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
            "prefix_state": outcome.prefix_state,
            "blocker": blocker.invoke_index,
            "tried_states": outcome.tried_states,
            "legal_states": outcome.legal_states,
        },
    )
