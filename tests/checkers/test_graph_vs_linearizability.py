"""On unique-value histories the graph checker and the linearizability search agree.

The graph checker trusts the store's versions; the search trusts nothing but
values and times. Where an anomaly shows in the values (stale, non-monotonic,
phantom, aborted and future reads) both must say invalid; on histories of a
correct register both must say valid. Anomalies only the versions reveal
(collisions, inversions) and node-internal final reads are the graph's alone.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checkers.api import check
from checkers.graph import check_graph
from checkers.history import History
from checkers.linearizability import check_linearizability
from checkers.result import Verdict
from checkers.synth import register_history
from tests.checkers.history_builder import Builder
from tests.checkers.test_graph import inject

# Few uncertain ops: every open info write doubles the search's choices, and an
# undecided ("unknown") search would say nothing about agreement.
decidable_params = st.fixed_dictionaries({
    "n_ops": st.integers(20, 120),
    "processes": st.integers(1, 6),
    "keys": st.integers(1, 3),
    "info_rate": st.sampled_from([0.0, 0.03]),
    "fail_rate": st.sampled_from([0.0, 0.05]),
    "seed": st.integers(0, 2**32),
})

VALUE_ANOMALIES = ["stale-read", "non-monotonic-read", "phantom-read", "aborted-read",
                   "future-read"]


def linearizable(history: History) -> Verdict:
    return check_linearizability(history, model="register",
                                 time_limit=20).valid


@settings(max_examples=40, deadline=None)
@given(decidable_params)
def test_both_accept_a_correct_register(params: dict) -> None:
    history = register_history(**params)
    assert check_graph(history).valid is True
    assert linearizable(history) is True


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(params=decidable_params, kind=st.sampled_from(VALUE_ANOMALIES))
def test_both_reject_an_anomaly_visible_in_values(params: dict, kind: str) -> None:
    params["n_ops"] = max(params["n_ops"], 60)
    history, _ = inject(register_history(**params), kind)
    assert check_graph(history).valid is False
    assert linearizable(history) is False


def test_each_says_what_it_claims_and_both_can_hold_at_once() -> None:
    # b was written after a completed yet got the older version: the versions
    # contradict real time, while the values (a, then b) are linearizable
    history = Builder()
    history.op(1, "write", "k", "a", version=(2, "n1"))
    history.op(2, "write", "k", "b", version=(1, "n1"))
    history.op(3, "read", "k", "b", version=(1, "n1"))
    report = check(history.history())
    graph, linear = (r for r in report.results if r.checker in ("graph", "linearizability"))
    assert graph.valid is False and linear.valid is True
    assert graph.anomalies[0].explanation.startswith(
        "the store's version order contradicts real time: ")
    stale = Builder()
    stale.op(1, "write", "k", "a", version=(1, "n1"))
    stale.op(2, "write", "k", "b", version=(2, "n1"))
    stale.op(3, "read", "k", "a", version=(1, "n1"))
    (anomaly,) = check_linearizability(stale.history(), model="register").anomalies
    assert anomaly.explanation.startswith(
        "key k: no order of these operations explains the values read")
