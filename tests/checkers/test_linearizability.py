"""The linearizability checker on small hand-written histories, both ways, and
against a brute-force search over every order of every small random history."""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_failed_cas_means_the_compare_did_not_match() -> None:
    assert verdict(history((0, "cas", [0, 2], "fail", 0, 1))) is False
    assert verdict(history((0, "cas", [5, 2], "fail", 0, 1), (1, "read", 0, "ok", 2, 3))) is True


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
    """Concurrent writes and a read of a value nobody wrote: every order must be refuted."""
    specs = [(p, "write", p, "ok", p, 1000 + p) for p in range(writes)]
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
    """Does some order of the ops (optional info ops included or not) satisfy a
    cas register? Written independently of checkers.models."""
    required, optional = [], []
    for op in ops:
        f, _, kind, _, _ = op
        if kind == "ok" or (kind == "fail" and f == "cas"):
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
            elif kind == "fail":
                if state == value[0]:
                    return False
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
