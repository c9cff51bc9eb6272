"""Synthetic histories of a correct (linearizable) register store.

Used by the property tests and the benchmarks: each op gets an invocation
time, a completion time and a linearization point between them; applying the
ops to per-key registers in linearization-point order gives every read its
value and every write its version. Timeouts become ``info`` ops that take
effect later or never, and the thread continues under a new process id, as the
harness records them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from checkers.history import FINAL, Event, History, pair_ops

MS = 1_000_000


@dataclass(slots=True)
class _Planned:
    process: int
    f: str
    key: str
    value: str | None
    invoke: int
    complete: int
    outcome: str  # ok, fail or info
    effect: int | None  # linearization point; None: never takes effect
    version: tuple[int, str] | None = None


def register_history(
    n_ops: int,
    *,
    processes: int = 5,
    keys: int = 3,
    info_rate: float = 0.05,
    fail_rate: float = 0.02,
    read_ratio: float = 0.5,
    final_nodes: int = 0,
    seed: int = 0,
) -> History:
    """A linearizable read/write register history with unique written values.

    ``final_nodes`` > 0 appends a converged final phase: every key read on each
    node, then a ``quiesce`` info event.
    """
    rng = random.Random(seed)
    key_names = [f"k{i}" for i in range(keys)]
    planned = _plan(n_ops, processes, key_names, info_rate, fail_rate, read_ratio, rng)
    state = _apply(planned, rng)
    events = _events(planned)
    if final_nodes:
        _final_phase(events, state, key_names, final_nodes)
    return History(events=events, ops=pair_ops(events))


def _plan(n_ops: int, processes: int, keys: list[str], info_rate: float, fail_rate: float,
          read_ratio: float, rng: random.Random) -> list[_Planned]:
    """Give each op its process, times and outcome; processes run one op at a time."""
    free_at = [rng.randrange(MS) for _ in range(processes)]
    pids = list(range(processes))
    seq = [0] * processes
    planned: list[_Planned] = []
    for _ in range(n_ops):
        slot = min(range(processes), key=free_at.__getitem__)
        pid = pids[slot]
        invoke = free_at[slot] + rng.randrange(1, MS // 10)
        latency = rng.randrange(MS // 10, 5 * MS)
        is_read = rng.random() < read_ratio
        roll = rng.random()
        if roll < info_rate:
            outcome = "info"
            complete = invoke + 10 * MS  # the timeout
            # an uncertain op may take effect later, even after its timeout, or never
            effect = None if rng.random() < 0.5 else invoke + rng.randrange(1, 20 * MS)
            pids[slot] += processes
        elif roll < info_rate + fail_rate:
            outcome, complete, effect = "fail", invoke + latency, None
        else:
            outcome, complete = "ok", invoke + latency
            effect = invoke + rng.randrange(latency)
        value = None if is_read else f"{pid}-{seq[slot]}"
        seq[slot] += 1
        planned.append(_Planned(pid, "read" if is_read else "write", rng.choice(keys), value,
                                invoke, complete, outcome, effect))
        free_at[slot] = complete
    return planned


def _apply(planned: list[_Planned], rng: random.Random) -> dict[str, tuple[str, tuple[int, str]]]:
    """Run the ops on per-key registers in linearization order; return the final state."""
    state: dict[str, tuple[str, tuple[int, str]]] = {}
    effective = sorted((op for op in planned if op.effect is not None), key=lambda op: op.effect)
    for op in effective:
        if op.f == "write":
            counter = state[op.key][1][0] + 1 if op.key in state else 1
            op.version = (counter, f"n:n{rng.randrange(1, 6)}:1")
            state[op.key] = (op.value, op.version)
        elif op.outcome == "ok" and op.key in state:
            op.value, op.version = state[op.key]
    for op in planned:  # a write that never took effect has no version to report
        if op.f == "write" and op.outcome != "ok":
            op.version = None
    return state


def _events(planned: list[_Planned]) -> list[Event]:
    timeline: list[tuple[int, int, Event]] = []
    for n, op in enumerate(planned):
        invoke_value = op.value if op.f == "write" else None
        timeline.append((op.invoke, 2 * n, Event(0, op.invoke, op.process, "invoke", op.f,
                                                 op.key, invoke_value)))
        done_value = op.value if op.outcome == "ok" or op.f == "write" else None
        error = "timeout" if op.outcome == "info" else None
        version = op.version if op.outcome == "ok" else None
        timeline.append((op.complete, 2 * n + 1, Event(0, op.complete, op.process, op.outcome,
                                                       op.f, op.key, done_value, version,
                                                       error=error)))
    timeline.sort(key=lambda item: (item[0], item[1]))
    events = [event for _, _, event in timeline]
    for index, event in enumerate(events):
        event.index = index
    return events


def _final_phase(events: list[Event], state: dict[str, tuple[str, tuple[int, str]]],
                 keys: list[str], nodes: int) -> None:
    time = events[-1].time if events else 0
    for key in keys:
        value, version = state.get(key, (None, None))
        for n in range(1, nodes + 1):
            for event_type in ("invoke", "ok"):
                time += MS // 10
                done = event_type == "ok"
                events.append(Event(len(events), time, FINAL, event_type, "final-read", key,
                                    value if done else None, version if done else None,
                                    node=f"n{n}"))
    events.append(Event(len(events), time + MS, FINAL, "info", "quiesce",
                        value={"converged": True, "seconds": 0.5}))
