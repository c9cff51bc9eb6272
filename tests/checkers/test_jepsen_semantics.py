"""Imported Jepsen histories mean what they mean in Jepsen, each semantic both ways.

Hand-written EDN cas-register histories (register starts at 0): a failed op
never happened, an ``:ok :read`` of nil did not learn the value, an ``:info``
op takes effect later or never, a cas's value is ``[old new]``, and a crashed
process issues nothing more. Then a property test: random small histories
against a brute-force search that follows those rules.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checkers import HistoryError, check, load_history


def verdict(tmp_path: Path, edn: str) -> Any:
    path = tmp_path / "history.edn"
    path.write_text(edn)
    report = check(load_history(path), model="cas-register", initial=0)
    return report.verdict


def ops(*lines: str) -> str:
    return "[" + "\n ".join(lines) + "]\n"


WRITE_1 = ("{:process 0, :type :invoke, :f :write, :value 1}",
           "{:process 0, :type :ok, :f :write, :value 1}")


def read(process: int, value: str) -> tuple[str, str]:
    return (f"{{:process {process}, :type :invoke, :f :read, :value nil}}",
            f"{{:process {process}, :type :ok, :f :read, :value {value}}}")


FAILED_CAS_1_TO_2 = ("{:process 1, :type :invoke, :f :cas, :value [1 2]}",
                     "{:process 1, :type :fail, :f :cas, :value [1 2]}")


def test_a_failed_cas_whose_expected_value_was_there_is_valid(tmp_path: Path) -> None:
    # the register held 1, so "the compare failed" would be a contradiction;
    # in Jepsen the cas simply did not happen
    assert verdict(tmp_path, ops(*WRITE_1, *FAILED_CAS_1_TO_2, *read(2, "1"))) is True


def test_a_failed_cas_did_not_write_its_value(tmp_path: Path) -> None:
    assert verdict(tmp_path, ops(*WRITE_1, *FAILED_CAS_1_TO_2, *read(2, "2"))) is False


def test_nil_reads_are_legal_in_any_state(tmp_path: Path) -> None:
    history = ops(*read(1, "nil"), *WRITE_1, *read(2, "nil"),
                  "{:process 3, :type :invoke, :f :write, :value 2}",
                  "{:process 3, :type :ok, :f :write, :value 2}",
                  *read(4, "nil"), *read(5, "2"))
    assert verdict(tmp_path, history) is True


def test_nil_reads_do_not_hide_a_stale_read(tmp_path: Path) -> None:
    history = ops(*read(1, "nil"), *WRITE_1,
                  "{:process 3, :type :invoke, :f :write, :value 2}",
                  "{:process 3, :type :ok, :f :write, :value 2}",
                  *read(4, "nil"), *read(5, "1"))
    assert verdict(tmp_path, history) is False


INFO_WRITE_1 = ("{:process 0, :type :invoke, :f :write, :value 1}",
                "{:process 0, :type :info, :f :write, :value 1, :error :timeout}")


def test_an_info_write_may_take_effect_after_its_timeout(tmp_path: Path) -> None:
    # read 0 after the timeout: not yet; read 1 later: it took effect late
    assert verdict(tmp_path, ops(*INFO_WRITE_1, *read(1, "0"), *read(2, "1"))) is True


def test_an_info_write_takes_effect_at_most_once(tmp_path: Path) -> None:
    history = ops(*INFO_WRITE_1, *read(1, "1"), *read(2, "0"), *read(3, "1"))
    assert verdict(tmp_path, history) is False


def test_an_info_write_may_never_take_effect(tmp_path: Path) -> None:
    history = ops(*INFO_WRITE_1, *read(1, "0"),
                  "{:process 2, :type :invoke, :f :cas, :value [0 3]}",
                  "{:process 2, :type :ok, :f :cas, :value [0 3]}",
                  *read(3, "3"))
    assert verdict(tmp_path, history) is True


def test_an_info_write_cannot_take_effect_before_it_was_invoked(tmp_path: Path) -> None:
    history = ops(*read(1, "1"), *INFO_WRITE_1)
    assert verdict(tmp_path, history) is False


def test_a_cas_value_is_old_then_new(tmp_path: Path) -> None:
    cas = ("{:process 2, :type :invoke, :f :cas, :value [1 3]}",
           "{:process 2, :type :ok, :f :cas, :value [1 3]}")
    assert verdict(tmp_path, ops(*WRITE_1, *cas, *read(3, "3"))) is True
    assert verdict(tmp_path, ops(*WRITE_1, *cas, *read(3, "1"))) is False


def test_a_crashed_process_that_invokes_again_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "history.edn"
    path.write_text(ops(*INFO_WRITE_1, *read(0, "1")))
    with pytest.raises(HistoryError, match="process 0 invokes again after its op ended info"):
        load_history(path)


# --- against a brute-force reference ------------------------------------------

PROCESSES = 3
# (worker, f, a, b, outcome, pause before invoking, duration)
raw_ops = st.lists(
    st.tuples(
        st.integers(0, PROCESSES - 1),
        st.sampled_from(["read", "write", "cas"]),
        st.integers(0, 2), st.integers(0, 2),
        st.sampled_from(["ok", "ok", "ok", "fail", "info", "nil"]),
        st.integers(0, 3), st.integers(0, 4),
    ),
    min_size=1, max_size=7,
)


def _schedule(raw: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Ops with times; a worker whose op ends info goes on as a new process."""
    clock, generation, planned = [0] * PROCESSES, [0] * PROCESSES, []
    for worker, f, a, b, outcome, pause, duration in raw:
        start = clock[worker] + pause
        end = start + duration
        value: Any = [a, b] if f == "cas" else a
        kind = outcome
        if outcome == "nil":  # a read that did not learn its value; other ops just succeed
            kind, value = "ok", (None if f == "read" else value)
        planned.append({"process": worker + PROCESSES * generation[worker], "f": f,
                        "value": value, "type": kind, "start": start, "end": end})
        if kind == "info":
            generation[worker] += 1
        clock[worker] = end + 1
    return planned


def _edn(planned: list[dict[str, Any]]) -> str:
    def text(value: Any) -> str:
        if value is None:
            return "nil"
        return f"[{value[0]} {value[1]}]" if isinstance(value, list) else str(value)

    events = []
    for op in planned:
        invoked = None if op["f"] == "read" else op["value"]
        events.append((op["start"], 0, op["process"], "invoke", op["f"], invoked))
        done = op["value"] if op["type"] == "ok" or op["f"] != "read" else None
        events.append((op["end"], 1, op["process"], op["type"], op["f"], done))
    events.sort(key=lambda event: (event[0], event[1]))
    return ops(*(f"{{:process {p}, :type :{kind}, :f :{f}, :value {text(v)}}}"
                 for _, _, p, kind, f, v in events))


def _jepsen_reference(planned: list[dict[str, Any]], initial: int = 0) -> bool:
    """Is there an order of the ok ops and some of the info ops (failed ones
    left out) that respects real time and a cas register, where a nil read is
    legal in any state? Knows nothing of checkers."""
    required = [op for op in planned if op["type"] == "ok"]
    optional = [op for op in planned if op["type"] == "info" and op["f"] != "read"]

    def precedes(a: dict[str, Any], b: dict[str, Any]) -> bool:
        return a["type"] == "ok" and a["end"] < b["start"]

    def legal(order: tuple[dict[str, Any], ...]) -> bool:
        state = initial
        for i, op in enumerate(order):
            if any(precedes(later, op) for later in order[i + 1:]):
                return False
            if op["f"] == "read":
                if op["value"] is not None and op["value"] != state:
                    return False
            elif op["f"] == "write":
                state = op["value"]
            elif state == op["value"][0]:
                state = op["value"][1]
            else:
                return False
        return True

    return any(
        legal(order)
        for size in range(len(optional) + 1)
        for chosen in itertools.combinations(optional, size)
        for order in itertools.permutations(required + list(chosen))
    )


@settings(max_examples=250, deadline=None)
@given(raw_ops)
def test_agrees_with_a_brute_force_jepsen_reference(tmp_path_factory: Any,
                                                     raw: list[tuple[Any, ...]]) -> None:
    planned = _schedule(raw)
    path = tmp_path_factory.mktemp("edn")
    assert verdict(path, _edn(planned)) is _jepsen_reference(planned)
