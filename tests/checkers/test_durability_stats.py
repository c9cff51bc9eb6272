"""Durability and convergence over final reads; stats counts and latencies."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checkers import stats
from checkers.durability import check_durability
from checkers.history import FINAL
from checkers.stats import check_stats, latency_summary
from checkers.synth import register_history
from tests.checkers.history_builder import Builder


def final_phase(b: Builder, copies: dict[str, tuple[str | None, tuple[int, str] | None]],
                *, converged: bool = True) -> None:
    for node, (value, version) in copies.items():
        b.op(FINAL, "final-read", "k", value, version=version, node=node)
    b.event(FINAL, "info", "quiesce", value={"converged": converged, "seconds": 2.5})


def acked_writes() -> Builder:
    b = Builder()
    b.op(1, "write", "k", "a", version=(1, "n1"))
    b.op(1, "write", "k", "b", version=(2, "n2"))
    return b


def test_converged_final_state_holding_every_write_is_valid() -> None:
    b = acked_writes()
    final_phase(b, {"n1": ("b", (2, "n2")), "n2": ("b", (2, "n2"))})
    result = check_durability(b.history())
    assert result.valid is True
    assert result.details["convergence_seconds"] == 2.5
    assert result.details["converged"] is True


def test_acknowledged_write_above_every_copy_is_lost() -> None:
    b = acked_writes()
    final_phase(b, {"n1": ("a", (1, "n1")), "n2": ("a", (1, "n1"))})
    [anomaly] = check_durability(b.history()).anomalies
    assert anomaly.kind == "lost-write"
    assert anomaly.ops == [2]
    assert "[2, n2]" in anomaly.explanation and "[1, n1]" in anomaly.explanation


def test_key_held_by_no_node_loses_its_writes() -> None:
    b = acked_writes()
    final_phase(b, {"n1": (None, None)})
    assert [a.kind for a in check_durability(b.history()).anomalies] == ["lost-write"] * 2


def test_diverging_replicas_and_failed_convergence_are_reported() -> None:
    b = acked_writes()
    final_phase(b, {"n1": ("b", (2, "n2")), "n2": ("a", (1, "n1"))}, converged=False)
    result = check_durability(b.history())
    assert result.valid is False
    assert sorted(a.kind for a in result.anomalies) == ["divergence", "not-converged"]
    divergence = next(a for a in result.anomalies if a.kind == "divergence")
    assert "n1: 'b'" in divergence.explanation and "n2: 'a'" in divergence.explanation


def test_no_final_phase_is_unknown_and_unanswered_node_is_unconfirmed() -> None:
    assert check_durability(acked_writes().history()).valid == "unknown"
    b = acked_writes()
    final_phase(b, {"n1": ("b", (2, "n2"))})
    b.op(FINAL, "final-read", "k", type="fail", node="n3")
    result = check_durability(b.history())
    assert result.valid == "unknown"
    assert result.details["unanswered_final_reads"] == {"k": ["n3"]}


def test_a_later_final_phase_judges_what_came_before_it() -> None:
    """A session's final phases, with ops between: each node's last copy counts,
    and a write acknowledged after the last final phase is not called lost."""
    b = acked_writes()
    final_phase(b, {"n1": ("b", (2, "n2")), "n2": ("b", (2, "n2"))})
    b.op(1, "write", "k", "c", version=(3, "n1"))
    assert check_durability(b.history()).valid is True  # c is newer than phase one saw
    assert check_durability(b.history()).details["writes_after_final"] == 1
    final_phase(b, {"n1": ("c", (3, "n1")), "n2": ("b", (2, "n2"))})
    result = check_durability(b.history())
    assert [a.kind for a in result.anomalies] == ["divergence"]
    assert "writes_after_final" not in result.details
    final_phase(b, {"n1": ("b", (2, "n2")), "n2": ("b", (2, "n2"))})
    [lost] = check_durability(b.history()).anomalies
    assert lost.kind == "lost-write" and "'c'" in lost.explanation


def test_a_node_that_answered_once_and_not_since_is_unconfirmed() -> None:
    b = acked_writes()
    final_phase(b, {"n1": ("b", (2, "n2")), "n2": ("b", (2, "n2"))})
    b.op(FINAL, "final-read", "k", type="fail", node="n2")
    result = check_durability(b.history())
    assert result.valid == "unknown"
    assert result.details["unanswered_final_reads"] == {"k": ["n2"]}


def test_a_key_first_written_after_the_final_phase_is_not_lost() -> None:
    b = acked_writes()
    final_phase(b, {"n1": ("b", (2, "n2"))})
    b.op(1, "write", "other", "x", version=(1, "n1"))
    assert check_durability(b.history()).valid is True


def test_generated_history_with_final_phase_is_durable() -> None:
    assert check_durability(register_history(500, final_nodes=3, seed=2)).valid is True


def test_stats_count_outcomes_per_function_and_latency_quantiles() -> None:
    b = Builder()
    b.op(1, "write", "k", "a", version=(1, "n1"))
    b.op(1, "write", "k", "b", type="fail")
    b.op(1, "read", "k", type="info")
    b.invoke(2, "read", "k")  # never completes: info
    result = check_stats(b.history())
    assert result.valid is True
    assert result.details["counts"] == {"read": {"ok": 0, "fail": 0, "info": 2},
                                        "write": {"ok": 1, "fail": 1, "info": 0}}
    assert result.details["latency_ms"] == {"write": {"p50": 1.0, "p90": 1.0, "p99": 1.0,
                                                      "max": 1.0}}


def test_latency_quantiles_are_nearest_rank() -> None:
    summary = latency_summary([n * 1_000_000 for n in range(1, 101)])
    assert summary == {"p50": 50.0, "p90": 90.0, "p99": 99.0, "max": 100.0}


@settings(max_examples=30, deadline=None)
@given(n_ops=st.integers(0, 300), info_rate=st.sampled_from([0.0, 0.3]),
       fail_rate=st.sampled_from([0.0, 0.3]), seed=st.integers(0, 2**16))
def test_stats_on_columns_equal_stats_op_by_op(n_ops: int, info_rate: float, fail_rate: float,
                                               seed: int) -> None:
    history = register_history(n_ops, info_rate=info_rate, fail_rate=fail_rate, seed=seed,
                               final_nodes=2)
    by_ops = check_stats(history).details
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(stats, "BULK_FROM", 0)  # large histories take the columns
        assert check_stats(history).details == by_ops
