"""Histories recorded from a simulated linearizable cas register always pass.

The simulation gives every op a real-time interval and a linearization point
inside it and applies the ops at those points, so the history is linearizable
by construction. Timeouts complete as ``info``: such an op takes effect later
(even after the timeout) or never, and its process continues under a new id,
as in Jepsen. Values are few (0..3), so they repeat and only a full search can
decide; several keys exercise the per-key split. A variant with reads and
writes of unique values goes through the zones instead of the search.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from checkers.history import Event, History, pair_ops
from checkers.linearizability import check_linearizability

PROCESSES = 4


@dataclass
class Planned:
    process: int
    f: str
    key: str
    value: Any
    invoke: int
    complete: int
    effect: int | None  # when it takes effect; None: never
    outcome: str  # "ok" or "info"


plans = st.lists(
    st.tuples(
        st.integers(0, PROCESSES - 1),  # worker
        st.sampled_from(["read", "write", "cas"]),
        st.sampled_from(["a", "b"]),
        st.integers(0, 3), st.integers(0, 3),  # value / cas from, to
        st.integers(0, 5),  # pause before invoking
        st.integers(0, 8),  # duration
        st.integers(0, 8),  # effect point within the duration
        st.sampled_from(["ok", "ok", "ok", "timeout-late", "timeout-early", "timeout-never"]),
    ),
    min_size=1, max_size=40,
)


def simulate(raw: list[tuple[Any, ...]], unique: bool = False) -> History:
    """The history of the planned ops; ``unique``: reads and writes only, each
    write of a value of its own (as the harness records)."""
    clock = [0] * PROCESSES
    generation = [0] * PROCESSES
    planned = []
    for worker, f, key, a, b, pause, duration, offset, outcome in raw:
        invoke = clock[worker] + pause
        complete = invoke + duration
        clock[worker] = complete + 1
        effect: int | None = invoke + min(offset, duration)
        if outcome == "timeout-late":
            effect = complete + offset + 1  # lands after the info completion
        elif outcome == "timeout-never" or (outcome != "ok" and f == "read"):
            effect = None
        value = [a, b] if f == "cas" else a
        if unique:
            f = "read" if f == "read" else "write"
            value = f"{worker}-{len(planned)}"
        process = worker + PROCESSES * generation[worker]
        if outcome != "ok":
            generation[worker] += 1
        planned.append(Planned(process, f, key, value, invoke, complete, effect,
                               "ok" if outcome == "ok" else "info"))
    return _record(planned)


def _record(planned: list[Planned]) -> History:
    """Apply the ops at their effect points, then write invoke/completion events.

    Times are spread so that effect points fall strictly inside intervals.
    """
    state = {"a": 0, "b": 0}
    results: dict[int, tuple[str, Any]] = {}
    order = sorted((p.effect, i) for i, p in enumerate(planned) if p.effect is not None)
    for _, i in order:
        p = planned[i]
        current = state[p.key]
        if p.f == "read":
            results[i] = ("ok", current)
        elif p.f == "write":
            state[p.key] = p.value
            results[i] = ("ok", p.value)
        elif current == p.value[0]:
            state[p.key] = p.value[1]
            results[i] = ("ok", p.value)
        else:
            results[i] = ("fail", p.value)
    timed = []
    for i, p in enumerate(planned):
        invoke_value = None if p.f == "read" else p.value
        timed.append((3 * p.invoke, i, Event(0, 3 * p.invoke, p.process, "invoke", p.f, p.key,
                                             invoke_value)))
        if p.outcome == "info":
            kind, value = "info", invoke_value
        else:
            kind, value = results[i]
        timed.append((3 * p.complete + 2, i, Event(0, 3 * p.complete + 2, p.process, kind, p.f,
                                                   p.key, value)))
    # effect points are 3*t+1, strictly inside [3*invoke, 3*complete+2]
    events = [event for _, _, event in sorted(timed, key=lambda t: (t[0], t[1]))]
    for index, event in enumerate(events):
        event.index = index
    return History(events=events, ops=pair_ops(events))


@settings(max_examples=200, deadline=None)
@given(plans)
def test_simulated_linearizable_register_histories_pass(raw: list[tuple[Any, ...]]) -> None:
    history = simulate(raw)
    result = check_linearizability(history, model="cas-register", initial=0, time_limit=30)
    assert result.valid is True, [a.explanation for a in result.anomalies]


@settings(max_examples=100, deadline=None)
@given(plans)
def test_simulated_unique_value_histories_pass(raw: list[tuple[Any, ...]]) -> None:
    """Reads and writes of unique values: decided by the zones, which must agree."""
    history = simulate(raw, unique=True)
    result = check_linearizability(history, model="register", initial=0, time_limit=30)
    assert result.valid is True, [a.explanation for a in result.anomalies]
    assert {key["method"] for key in result.details["keys"].values()} <= {"zones"}


@settings(max_examples=100, deadline=None)
@given(plans, st.data())
def test_a_read_of_an_unwritten_value_fails(raw: list[tuple[Any, ...]], data: Any) -> None:
    """The same histories with one ok read corrupted to a value never written fail."""
    history = simulate(raw)
    reads = [e for e in history.events if e.f == "read" and e.type == "ok"]
    if not reads:
        return
    victim = data.draw(st.sampled_from(reads))
    victim.value = 99
    history.ops = pair_ops(history.events)
    result = check_linearizability(history, model="cas-register", initial=0, time_limit=30)
    assert result.valid is False
    assert result.anomalies[0].key == victim.key
