"""check(): which checkers run, the combined verdict, JSON and text forms."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checkers.api import check, default_checkers, infer_model
from checkers.errors import HistoryError
from checkers.history import FINAL
from checkers.render import report_text
from checkers.synth import register_history
from tests.checkers.history_builder import Builder


def stale() -> Builder:
    b = Builder()
    b.op(1, "write", "k", "a", version=(1, "n1"))
    b.op(1, "write", "k", "b", version=(2, "n1"))
    b.op(2, "read", "k", "a", version=(1, "n1"))
    return b


def test_defaults_follow_from_the_history() -> None:
    names = default_checkers(register_history(50, final_nodes=2, seed=1))
    assert {"stats", "graph", "durability"} <= set(names)
    b = Builder()
    b.op(1, "write", "k", "a")  # no versions, no final phase
    assert {"graph", "durability"}.isdisjoint(default_checkers(b.history()))


def test_verdict_is_the_conjunction_and_to_dict_is_json() -> None:
    report = check(stale().history(), checkers=["graph", "stats"])
    assert report.verdict is False
    assert [r.checker for r in report.results] == ["graph", "stats"]
    data = orjson.loads(orjson.dumps(report.to_dict(), option=orjson.OPT_NON_STR_KEYS))
    assert data["verdict"] is False
    [anomaly] = data["results"][0]["anomalies"]
    assert anomaly["kind"] == "stale-read" and anomaly["cycle"]
    assert check(register_history(50, seed=1), checkers=["graph"]).verdict is True


def test_unknown_beats_valid() -> None:
    b = Builder()
    b.op(1, "write", "k", "a", version=(1, "n1"))
    report = check(b.history(), checkers=["graph", "durability", "stats"])
    assert report.verdict == "unknown"  # no final phase: durability cannot say


def test_text_report_names_verdicts_and_explains_anomalies() -> None:
    text = report_text(check(stale().history(), checkers=["graph", "stats"])).plain
    assert "INVALID" in text
    assert ("stale-read [k]: the store's version order contradicts real time: "
            "read #4 (k) returned 'a'") in text
    assert "-> #2 completed at" in text
    assert "write: 2 ok, 0 fail, 0 info" in text


def test_text_report_cuts_long_anomaly_lists() -> None:
    b = Builder()
    b.op(1, "write", "k", "a", version=(1, "n1"))
    for n in range(15):
        b.op(2, "read", "k", f"nobody-{n}")
    text = report_text(check(b.history(), checkers=["graph"]), limit=3).plain
    assert text.count("phantom-read") == 4  # 3 shown + the count in the summary
    assert "and 12 more anomalies" in text


def test_bad_checker_or_model_is_a_history_error() -> None:
    with pytest.raises(HistoryError, match="unknown checker 'nope'"):
        check(stale().history(), checkers=["nope"])
    with pytest.raises(HistoryError, match="unknown model 'queue'"):
        check(stale().history(), model="queue", checkers=["stats"])


def test_model_inference_and_client_view() -> None:
    b = Builder()
    b.op(1, "cas", "k", [1, 2])
    assert infer_model(b.history()) == "cas-register"
    b = Builder()
    b.op(1, "append", "k", "x")
    assert infer_model(b.history()) == "kv"
    history = register_history(30, final_nodes=2, seed=1)
    assert infer_model(history) == "register"


def test_a_lagging_node_in_the_final_phase_is_not_a_linearizability_violation() -> None:
    b = Builder()
    b.op(1, "write", "k", "a", version=(1, "n1"))
    b.op(FINAL, "final-read", "k", None, node="n2")  # n2 never got the write
    (linear,) = [r for r in check(b.history()).results if r.checker == "linearizability"]
    assert linear.valid is True


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32), processes=st.integers(1, 6), keys=st.integers(1, 3))
def test_every_default_checker_passes_a_correct_register_with_final_phase(
    seed: int, processes: int, keys: int,
) -> None:
    history = register_history(120, processes=processes, keys=keys, info_rate=0.03,
                               final_nodes=3, seed=seed)
    report = check(history, time_limit=20)
    assert [r.checker for r in report.results] == ["graph", "linearizability", "durability",
                                                   "stats"]
    assert report.verdict is True, report_text(report).plain
