"""The zones' bulk decision (all keys at once, on the columns) against the
per-key one it stands for: it clears only keys ``zones.decide`` finds
linearizable, with the same op counts, and every such key of unique values;
and the checker's whole result is the same with or without it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checkers import linearizability, zones
from checkers.history import UNKNOWN_VALUE, History
from checkers.linearizability import NOT_CLIENT_OPS, check_linearizability
from checkers.models import RegisterModel
from tests.checkers.test_linearizability import history

READ_VALUES = ["w0", "w1", "w2", "w3", "never", "init", None, UNKNOWN_VALUE]

register_ops = st.lists(
    st.tuples(
        st.sampled_from(["read", "write", "write"]),
        st.sampled_from(READ_VALUES),  # what a read returned
        st.booleans(),  # whether a write repeats an earlier written value
        st.sampled_from(["ok", "ok", "ok", "info", "fail"]),
        st.integers(0, 6),  # few distinct times: zones touch often
        st.sampled_from([0, 1, 2, None]),  # duration; None: never completed
        st.sampled_from(["k0", "k1", "k2"]),
    ),
    min_size=1, max_size=12,
)


def build(raw: list[tuple[Any, ...]]) -> History:
    specs = []
    for process, (f, read_value, repeat, kind, start, length, key) in enumerate(raw):
        value = f"w{process % 4 if repeat else process}" if f == "write" else read_value
        end = None if length is None else start + length
        specs.append((process, f, value, kind, start, end, key))
    return history(*specs)


def per_key(h: History, initial: Any) -> dict[Any, tuple[Any, int, bool]]:
    """key -> (decide's verdict, ops kept, whether written values are unique)."""
    model = RegisterModel(initial)
    out = {}
    for key, ops in h.ops_by_key().items():
        kept = [op for op in ops if op.type != "fail" and op.f not in NOT_CLIENT_OPS]
        if not kept:
            continue
        prepared = [op for op in model.prepare(kept) if op.type != "info" or op.f != "read"]
        written = [op.value for op in ops if op.f == "write"]
        unique = len(set(written)) == len(written) and initial not in written
        out[key] = (zones.decide(prepared, initial), len(prepared), unique)
    return out


@settings(max_examples=400, deadline=None)
@given(raw=register_ops, initial=st.sampled_from([None, "init"]))
def test_bulk_clears_exactly_the_keys_decide_finds_linearizable(raw: list[tuple[Any, ...]],
                                                                 initial: Any) -> None:
    h = build(raw)
    columns = h.columns()
    client_ops = (columns.type != 1) & ~columns.of_functions(NOT_CLIENT_OPS)
    cleared = {columns.keys[k]: n for k, n in
               zones.bulk_cleared(columns, initial, client_ops).items()}
    expected = per_key(h, initial)
    assert set(cleared) <= set(expected)
    for key, (decided, kept, unique) in expected.items():
        if key in cleared:
            assert decided is not None and decided.valid is True, key
            assert cleared[key] == kept
        elif unique:
            assert decided is None or decided.valid is False, key


def _comparable(result: Any) -> Any:
    details = {k: v for k, v in result.details.items() if k != "keys"}
    keys = {k: {n: v for n, v in d.items() if n != "seconds"}
            for k, d in result.details["keys"].items()}
    return (result.valid, [(a.kind, a.key, a.explanation, a.ops, a.details)
                           for a in result.anomalies], details, list(keys.items()))


@settings(max_examples=200, deadline=None)
@given(raw=register_ops, initial=st.sampled_from([None, "init"]))
def test_the_checker_says_the_same_with_and_without_the_bulk_decision(
        raw: list[tuple[Any, ...]], initial: Any) -> None:
    without = check_linearizability(build(raw), model="register", initial=initial)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(linearizability, "BULK_FROM", 0)  # these histories are small
        with_bulk = check_linearizability(build(raw), model="register", initial=initial)
    assert _comparable(with_bulk) == _comparable(without)
