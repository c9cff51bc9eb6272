"""A user's own model through the public API, as the README shows it.

The README's example is run as written; then a counter model exercises each
part of the Model API: step, equal, partition, describe_op, describe_state.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import checkers
from checkers import Model, Report, check
from checkers.history import Event, History, pair_ops

README = Path(__file__).resolve().parents[2] / "README.md"


def test_public_surface_is_the_documented_names() -> None:
    assert sorted(checkers.__all__) == ["HistoryError", "HistoryWriter", "Model", "Report",
                                        "check", "load_history"]


def test_readme_example_runs_and_finds_the_lost_add(tmp_path: Path) -> None:
    (code,) = re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    assert len(code.splitlines()) <= 17
    printed = io.StringIO()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    assert printed.getvalue() == "False\n"


class Counter(Model):
    """``add n`` and ``read -> total``, one counter per key."""

    name = "counter"

    def init(self) -> Hashable:
        return 0

    def step(self, state: Any, op: Any) -> tuple[bool, Hashable]:
        if op.f == "add":
            return True, state + op.value
        return op.value == state, state

    def describe_op(self, op: Any) -> str:
        return f"add {op.value}" if op.f == "add" else f"read gave {op.value}"

    def describe_state(self, state: Any) -> str:
        return f"total {state}"


class RememberingLast(Counter):
    """A counter whose states also remember the last op's value: different as
    Python values after different orders, the same as counters."""

    def init(self) -> Hashable:
        return (0, None)

    def step(self, state: Any, op: Any) -> tuple[bool, Hashable]:
        legal, total = super().step(state[0], op)
        return legal, (total, op.value)

    def describe_state(self, state: Any) -> str:
        return f"total {state[0]}"


class SameCounter(RememberingLast):
    def equal(self, a: Any, b: Any) -> bool:
        return a[0] == b[0]


class OneCounter(Counter):
    """Every key adds to the same counter."""

    def partition(self, op: Any) -> Hashable:
        return None


def history(*ops: tuple[int, str, str, int, int, int]) -> History:
    """(process, key, f, value, invoke time, ok time) per op."""
    events = []
    for process, key, f, value, start, end in ops:
        events.append(Event(0, start, process, "invoke", f, key, None if f == "read" else value))
        events.append(Event(0, end, process, "ok", f, key, value))
    events.sort(key=lambda event: event.time)
    for index, event in enumerate(events):
        event.index = index
    return History(events, pair_ops(events))


def linearizability(report: Report) -> Any:
    (result,) = [r for r in report.results if r.checker == "linearizability"]
    return result


def test_a_counter_both_ways() -> None:
    good = history((0, "a", "add", 2, 0, 1), (1, "a", "add", 3, 0, 1), (2, "a", "read", 5, 2, 3))
    assert check(good, model=Counter()).verdict is True
    bad = history((0, "a", "add", 2, 0, 1), (1, "a", "add", 3, 2, 3), (2, "a", "read", 2, 4, 5))
    report = check(bad, model=Counter())
    assert report.verdict is False
    (anomaly,) = linearizability(report).anomalies
    assert "read gave 2" in anomaly.explanation and "total 5" in anomaly.explanation


def test_partition_decides_which_ops_share_a_state() -> None:
    ops = history((0, "a", "add", 2, 0, 1), (1, "b", "add", 3, 2, 3), (2, "b", "read", 3, 4, 5))
    assert check(ops, model=Counter()).verdict is True  # per key: b alone holds 3
    report = check(ops, model=OneCounter())
    assert report.verdict is False  # one counter: 5 after both adds
    assert list(linearizability(report).details["keys"]) == ["(single register)"]


def test_equal_lets_the_search_merge_states_that_mean_the_same() -> None:
    adds = [(p, "a", "add", p + 1, 0, 10) for p in range(6)]
    ops = history(*adds, (9, "a", "read", 99, 11, 12))  # never: every order is tried
    plain, merged = (linearizability(check(ops, model=m)) for m in (RememberingLast(),
                                                                      SameCounter()))
    assert plain.valid is False and merged.valid is False
    configs = [r.details["keys"]["a"]["configs"] for r in (plain, merged)]
    assert configs[1] < configs[0]
