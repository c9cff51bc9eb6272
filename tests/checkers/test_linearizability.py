"""The linearizability checker on small hand-written histories, both ways, and
against a brute-force search over every order of every small random history."""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checkers import zones
from checkers.errors import HistoryError
from checkers.history import Event, History, pair_ops
from checkers.linearizability import check_linearizability

# (process, f, value, completion type, invoke time, completion time or None[, key])
OpSpec = tuple[Any, ...]


def history(*specs: OpSpec) -> History:
    """Events for ops given as OpSpec; a None completion time leaves the op open."""
    events = []
    for spec in specs:
        process, f, value, kind, start, end = spec[:6]
        key = spec[6] if len(spec) > 6 else None
        invoke_value = None if f in ("read", "get") else value
        events.append(Event(0, start, process, "invoke", f, key, invoke_value))
        if end is not None:
            events.append(Event(0, end, process, kind, f, key, value))
    events.sort(key=lambda event: event.time)
    for index, event in enumerate(events):
        event.index = index
    return History(events=events, ops=pair_ops(events))


def verdict(h: History, model: str = "cas-register", initial: Any = 0) -> Any:
    return check_linearizability(h, model=model, initial=initial).valid


# --- registers, both ways ---------------------------------------------------


def test_sequential_write_then_read_is_linearizable() -> None:
    h = history((0, "write", 1, "ok", 0, 1), (1, "read", 1, "ok", 2, 3))
    assert verdict(h) is True


def test_stale_read_after_completed_write_is_not() -> None:
    h = history((0, "write", 1, "ok", 0, 1), (1, "read", 0, "ok", 2, 3))
    assert verdict(h) is False


def test_concurrent_reads_may_see_either_side_of_a_write() -> None:
    h = history(
        (0, "write", 1, "ok", 0, 10),
        (1, "read", 0, "ok", 1, 2),
        (2, "read", 1, "ok", 3, 4),
    )
    assert verdict(h) is True


def test_new_then_old_inversion_is_not() -> None:
    # both reads overlap the write, but the second starts after the first ends
    h = history(
        (0, "write", 1, "ok", 0, 10),
        (1, "read", 1, "ok", 1, 2),
        (2, "read", 0, "ok", 3, 4),
    )
    assert verdict(h) is False


def test_initial_value_is_a_parameter() -> None:
    h = history((0, "read", 7, "ok", 0, 1))
    assert verdict(h, initial=7) is True
    assert verdict(h, initial=0) is False
    assert verdict(history((0, "read", None, "ok", 0, 1)), initial=None) is True


def test_cas_needs_the_expected_value() -> None:
    ok = history((0, "write", 1, "ok", 0, 1), (0, "cas", [1, 2], "ok", 2, 3),
                 (1, "read", 2, "ok", 4, 5))
    assert verdict(ok) is True
    bad = history((0, "write", 1, "ok", 0, 1), (0, "cas", [3, 2], "ok", 2, 3))
    assert verdict(bad) is False


def test_a_failed_cas_did_not_happen_and_is_no_evidence() -> None:
    # Jepsen: a :fail op never took effect; its expected value says nothing
    assert verdict(history((0, "cas", [0, 2], "fail", 0, 1), (1, "read", 0, "ok", 2, 3))) is True
    assert verdict(history((0, "cas", [0, 2], "fail", 0, 1), (1, "read", 2, "ok", 2, 3))) is False


def test_failed_write_never_takes_effect() -> None:
    h = history((0, "write", 1, "fail", 0, 1), (1, "read", 1, "ok", 2, 3))
    assert verdict(h) is False


def test_failed_and_info_reads_are_dropped() -> None:
    h = history((0, "read", 9, "fail", 0, 1), (1, "read", 8, "info", 0, 2),
                (2, "read", 0, "ok", 3, 4))
    result = check_linearizability(h, model="register", initial=0)
    assert result.valid is True
    assert result.details["keys"]["(single register)"]["ops"] == 1


# --- info: may take effect at any point after invocation, or never ----------


def test_info_write_may_take_effect_after_its_timeout() -> None:
    h = history((0, "write", 1, "info", 0, 1), (1, "read", 0, "ok", 2, 3),
                (2, "read", 1, "ok", 10, 11))
    assert verdict(h) is True


def test_info_write_may_never_take_effect() -> None:
    h = history((0, "write", 1, "info", 0, 1), (1, "read", 0, "ok", 10, 11))
    assert verdict(h) is True


def test_open_invoke_at_the_end_counts_as_info() -> None:
    h = history((0, "write", 1, "ok", 0, None), (1, "read", 1, "ok", 5, 6))
    assert h.ops[0].type == "info"
    assert verdict(h) is True


def test_info_write_cannot_take_effect_before_its_invocation() -> None:
    h = history((1, "read", 1, "ok", 0, 1), (0, "write", 1, "info", 2, 3))
    assert verdict(h) is False


def test_info_write_takes_effect_once() -> None:
    h = history((0, "write", 1, "info", 0, 1), (1, "read", 1, "ok", 2, 3),
                (2, "read", 0, "ok", 4, 5), (3, "read", 1, "ok", 6, 7))
    assert verdict(h) is False


def test_two_identical_info_writes_can_take_effect_twice() -> None:
    h = history((0, "write", 1, "info", 0, 1), (1, "write", 1, "info", 0, 1),
                (2, "read", 1, "ok", 2, 3), (3, "write", 0, "ok", 4, 5),
                (4, "read", 1, "ok", 6, 7))
    assert verdict(h) is True


def test_info_cas_may_apply_late_or_never() -> None:
    late = history((0, "cas", [0, 3], "info", 0, 1), (1, "read", 0, "ok", 2, 3),
                   (2, "read", 3, "ok", 4, 5))
    assert verdict(late) is True
    never = history((0, "cas", [0, 3], "info", 0, 1), (1, "read", 0, "ok", 4, 5))
    assert verdict(never) is True
    wrong = history((0, "write", 1, "ok", 0, 1), (1, "cas", [0, 3], "info", 2, 3),
                    (2, "read", 3, "ok", 4, 5))
    assert verdict(wrong) is False


# --- keys, models, reports, budgets -----------------------------------------


def test_each_key_is_checked_on_its_own() -> None:
    h = history((0, "write", 1, "ok", 0, 1, "a"), (1, "read", 1, "ok", 2, 3, "a"),
                (2, "write", 2, "ok", 0, 1, "b"), (3, "read", 0, "ok", 2, 3, "b"))
    result = check_linearizability(h, model="register", initial=0)
    assert result.valid is False
    assert result.details["keys"]["a"]["valid"] is True
    assert result.details["keys"]["b"]["valid"] is False
    assert [a.key for a in result.anomalies] == ["b"]


def test_kv_get_put_append() -> None:
    ok = history((0, "put", "x", "ok", 0, 1), (1, "append", "y", "ok", 2, 3),
                 (2, "get", "xy", "ok", 4, 5), (3, "get", "", "ok", 0, 1))
    assert verdict(ok, model="kv", initial=None) is True
    bad = history((0, "append", "a", "ok", 0, 1), (1, "append", "b", "ok", 2, 3),
                  (2, "get", "b", "ok", 4, 5))
    assert verdict(bad, model="kv", initial=None) is False


def test_failure_names_prefix_blocker_and_states() -> None:
    h = history((0, "write", 1, "ok", 0, 1), (1, "write", 2, "ok", 2, 3),
                (2, "read", 1, "ok", 4, 5))
    result = check_linearizability(h, model="register", initial=0)
    assert result.valid is False
    (anomaly,) = result.anomalies
    blocker = h.ops[2].invoke_index
    assert anomaly.ops == [blocker]
    assert anomaly.details["prefix"] == [h.ops[0].invoke_index, h.ops[1].invoke_index]
    assert anomaly.details["tried_states"] == [2]
    assert f"#{blocker} read -> 1" in anomaly.explanation
    assert "longest linearizable prefix has 2 ops" in anomaly.explanation


def test_unknown_model_and_foreign_op_are_errors() -> None:
    with pytest.raises(ValueError, match="unknown model"):
        check_linearizability(history((0, "read", 0, "ok", 0, 1)), model="queue")
    with pytest.raises(HistoryError, match="no 'cas' operation"):
        check_linearizability(history((0, "cas", [0, 1], "ok", 0, 1)), model="register")
    with pytest.raises(HistoryError, match=r"needs a value \[from to\]"):
        check_linearizability(history((0, "cas", 3, "ok", 0, 1)), model="cas-register")


def _hard_history(writes: int) -> History:
    """Concurrent writes of repeated values (so the zones do not apply) and a read
    of a value nobody wrote: every order must be refuted."""
    specs = [(p, "write", p % 3, "ok", p, 1000 + p) for p in range(writes)]
    specs.append((writes, "read", -1, "ok", writes, 500))
    specs.append((writes + 1, "read", -2, "ok", 2000, 2001))
    return history(*specs)


def test_time_budget_makes_an_undecided_key_unknown() -> None:
    started = time.monotonic()
    result = check_linearizability(_hard_history(40), model="register", time_limit=0.2)
    assert time.monotonic() - started < 3
    assert result.valid == "unknown"
    assert result.details["unknown_keys"] == ["(single register)"]
    assert "time budget" in result.details["keys"]["(single register)"]["reason"]


def test_memory_budget_makes_an_undecided_key_unknown() -> None:
    result = check_linearizability(_hard_history(40), model="register", memory_limit=1 << 20)
    assert result.valid == "unknown"
    assert "memory budget" in result.details["keys"]["(single register)"]["reason"]


def test_an_invalid_key_decides_even_when_another_is_undecided() -> None:
    hard = _hard_history(40)
    for event in hard.events:
        event.key = "hard"
    easy = history((0, "write", 1, "ok", 0, 1, "easy"), (1, "read", 0, "ok", 2, 3, "easy"))
    offset = len(hard.events)
    for event in easy.events:
        event.index += offset
        event.process = f"e{event.process}"
    events = hard.events + easy.events
    result = check_linearizability(
        History(events, pair_ops(events)), model="register", initial=0, time_limit=5,
    )
    assert result.valid is False
    assert result.details["keys"]["easy"]["valid"] is False
    assert result.details["keys"]["hard"]["valid"] == "unknown"
    assert "already not linearizable" in result.details["keys"]["hard"]["reason"]


# --- against brute force ----------------------------------------------------


def _brute_force(ops: list[tuple[str, Any, str, int, int | None]], initial: int) -> bool:
    """Does some order of the ops (optional info ops included or not; failed
    ops never happened) satisfy a cas register? Written independently of
    checkers.models."""
    required, optional = [], []
    for op in ops:
        f, _, kind, _, _ = op
        if kind == "ok":
            required.append(op)
        elif kind == "info" and f != "read":
            optional.append(op)

    def before(a: Any, b: Any) -> bool:
        return a[2] != "info" and a[4] is not None and a[4] < b[3]

    def legal(order: tuple[Any, ...]) -> bool:
        state = initial
        for i, (f, value, kind, _, _) in enumerate(order):
            if any(before(later, order[i]) for later in order[i + 1:]):
                return False
            if f == "read":
                if state != value:
                    return False
            elif f == "write":
                state = value
            elif state == value[0]:
                state = value[1]
            elif kind == "ok":
                return False
        return True

    for size in range(len(optional) + 1):
        for chosen in itertools.combinations(optional, size):
            for order in itertools.permutations(required + list(chosen)):
                if legal(order):
                    return True
    return False


small_ops = st.lists(
    st.tuples(
        st.sampled_from(["read", "write", "cas"]),
        st.integers(0, 2),
        st.integers(0, 2),
        st.sampled_from(["ok", "ok", "ok", "fail", "info"]),
        st.integers(0, 12),
        st.integers(0, 6),
    ),
    min_size=1, max_size=6,
)


@settings(max_examples=300, deadline=None)
@given(small_ops)
def test_agrees_with_brute_force_on_small_histories(raw: list[tuple[Any, ...]]) -> None:
    ops, specs = [], []
    for process, (f, a, b, kind, start, length) in enumerate(raw):
        value = [a, b] if f == "cas" else a
        end = start + length
        specs.append((process, f, value, kind, start, end))
        ops.append((f, value, kind, start, end))
    expected = _brute_force(ops, initial=0)
    assert verdict(history(*specs)) is expected


# --- info ops nobody could observe are left out ------------------------------


def _kept(h: History, model: str = "cas-register", initial: Any = 0) -> int:
    (key,) = check_linearizability(h, model=model, initial=initial).details["keys"].values()
    return key["ops"]


def test_info_write_of_a_value_nobody_reads_is_left_out() -> None:
    h = history((0, "write", 5, "info", 0, 1), (1, "write", 6, "info", 0, 1),
                (2, "read", 6, "ok", 2, 3))
    assert _kept(h) == 2  # the write of 5 is out, the write of 6 (read) stays
    assert verdict(h) is True


def test_failed_ops_never_reach_the_search() -> None:
    h = history((0, "write", 7, "ok", 0, 1), (1, "cas", [0, 5], "fail", 2, 3),
                (2, "write", 8, "fail", 4, 5), (3, "read", 7, "ok", 6, 7))
    assert _kept(h) == 2
    assert verdict(h) is True


def test_kv_info_append_left_out_only_when_no_get_shows_it() -> None:
    h = history((0, "append", "a", "info", 0, 1), (1, "append", "b", "info", 0, 1),
                (2, "get", "b", "ok", 2, 3))
    assert _kept(h, model="kv", initial=None) == 2
    assert verdict(h, model="kv", initial=None) is True
    shown = history((0, "append", "a", "info", 0, 1), (2, "get", "ab", "ok", 2, 3))
    assert _kept(shown, model="kv", initial=None) == 2
    assert verdict(shown, model="kv", initial=None) is False


# --- unique values: the zones decide at once, and agree with brute force -----


unique_ops = st.lists(
    st.tuples(
        st.sampled_from(["read", "write", "write"]),
        st.integers(-1, 7),  # a read's value: -1 is never written, 0 the initial value
        st.sampled_from(["ok", "ok", "ok", "info"]),
        st.integers(0, 6),  # few distinct times: zones touch often, a case to get right
        st.integers(0, 3),
    ),
    min_size=1, max_size=7,
)


@settings(max_examples=200, deadline=None)
@given(unique_ops)
def test_zones_agree_with_brute_force_on_unique_values(raw: list[tuple[Any, ...]]) -> None:
    ops, specs = [], []
    for process, (f, read_value, kind, start, length) in enumerate(raw):
        value = read_value if f == "read" else process + 1  # unique written values
        specs.append((process, f, value, kind, start, start + length))
        ops.append((f, value, kind, start, start + length))
    h = history(*specs)
    kept = [op for op in h.ops if op.f == "write" or op.type == "ok"]
    decided = zones.decide(kept, 0)
    assert decided is not None
    assert decided.valid is _brute_force(ops, initial=0)
    assert verdict(h, model="register") is decided.valid


@pytest.mark.parametrize(
    "specs",
    [
        # two forward zones touching at t=0: the initial 0 read, then 4 written
        [(0, "read", 0, "ok", 0, 0), (1, "write", 4, "ok", 0, 0), (2, "read", 4, "ok", 1, 1)],
        # a lone write at the very start (t=1) of 1's forward zone [1, 3]
        [(0, "write", 1, "ok", 0, 1), (1, "read", 1, "ok", 3, 4), (2, "write", 2, "ok", 1, 1)],
        # a lone write at the very end (t=3) of 1's forward zone [1, 3]
        [(0, "write", 1, "ok", 0, 1), (1, "read", 1, "ok", 3, 4), (2, "write", 2, "ok", 3, 3)],
        # a read completing just when its write is invoked
        [(0, "read", 5, "ok", 0, 2), (1, "write", 5, "ok", 2, 3)],
    ],
)
def test_zones_treat_touching_intervals_as_concurrent(specs: list[OpSpec]) -> None:
    h = history(*specs)
    decided = zones.decide(h.ops, 0)
    assert decided is not None and decided.valid is True
    assert _brute_force([spec[1:] for spec in specs], initial=0) is True


def test_zones_step_aside_for_repeated_values() -> None:
    h = history((0, "write", 1, "ok", 0, 1), (1, "write", 1, "ok", 2, 3))
    assert zones.decide(h.ops, 0) is None
    assert zones.decide(history((0, "write", 0, "ok", 0, 1)).ops, 0) is None  # the initial


def test_many_concurrent_writers_on_one_key_are_decided_quickly() -> None:
    # 30 writers overlapping in waves, each write read back; the general search
    # would have to try orders of the blind writes
    specs = []
    for wave in range(20):
        base = wave * 100
        for p in range(30):
            specs.append((f"w{wave}-{p}", "write", f"{wave}-{p}", "ok", base + p, base + 60 + p))
        specs.append((f"r{wave}", "read", f"{wave}-29", "ok", base + 95, base + 99))
    h = history(*specs)
    started = time.monotonic()
    result = check_linearizability(h, model="register", time_limit=5)
    assert result.valid is True
    assert time.monotonic() - started < 2
    assert result.details["keys"]["(single register)"]["method"] == "zones"


def test_zones_violation_is_explained_by_the_search_when_it_can() -> None:
    h = history((0, "write", "a", "ok", 0, 1), (1, "read", None, "ok", 2, 3))
    result = check_linearizability(h, model="register")
    assert result.valid is False
    assert result.details["keys"]["(single register)"]["method"] == "search"
    assert "longest linearizable prefix" in result.anomalies[0].explanation


def test_zones_violation_stands_when_the_search_cannot_finish(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("checkers.linearizability.EXPLAIN_TIME", 0.2)
    specs = [(p, "write", p, "ok", p, 1000 + p) for p in range(40)]
    specs += [(40, "read", 5, "ok", 2000, 2001), (41, "read", 6, "ok", 2002, 2003),
              (42, "read", 5, "ok", 2004, 2005)]
    h = history(*specs)
    started = time.monotonic()
    result = check_linearizability(h, model="register", time_limit=30)
    assert time.monotonic() - started < 3
    assert result.valid is False
    assert result.details["keys"]["(single register)"]["method"] == "zones"
    (anomaly,) = result.anomalies
    assert "two values would have to be held at once" in anomaly.explanation
    read_5, read_6 = h.ops[40].invoke_index, h.ops[41].invoke_index
    assert read_6 in anomaly.ops or read_5 in anomaly.ops
