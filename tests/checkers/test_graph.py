"""The stale-read graph checker: hand-made anomalies, generated histories, and
agreement between its sweep and a cycle search on the full networkx graph."""

from __future__ import annotations

from collections import defaultdict

import networkx as nx
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from checkers.graph import GRAPH_FUNCTIONS, ExplainBudget, KeyGraph, check_graph
from checkers.history import FINAL, History, Op
from checkers.synth import register_history
from checkers.version_sweep import suspect_keys
from tests.checkers.history_builder import Builder

CYCLE_KINDS = {"stale-read", "non-monotonic-read", "lost-write", "future-read",
               "version-inversion"}


def kinds(history: History) -> list[str]:
    return sorted(a.kind for a in check_graph(history).anomalies)


def two_writes() -> Builder:
    b = Builder()
    b.op(1, "write", "k", "a", version=(1, "n1"))
    b.op(1, "write", "k", "b", version=(2, "n1"))
    return b


def test_fresh_reads_are_valid() -> None:
    b = two_writes()
    b.op(2, "read", "k", "b", version=(2, "n1"))
    result = check_graph(b.history())
    assert result.valid is True
    assert result.anomalies == []


def test_stale_read_is_explained_with_indexes_versions_and_times() -> None:
    b = two_writes()
    read = b.op(2, "read", "k", "a", version=(1, "n1"))
    result = check_graph(b.history())
    assert result.valid is False
    [anomaly] = result.anomalies
    assert anomaly.kind == "stale-read"
    assert anomaly.key == "k"
    assert f"read #{read} (k)" in anomaly.explanation
    assert "[2, n1]" in anomaly.explanation and "[1, n1]" in anomaly.explanation
    assert anomaly.ops == [read, 2]  # the read, then the write it missed
    cycle = "\n".join(anomaly.details["cycle"])
    assert "completed at" in cycle and "ms" in cycle


def test_read_concurrent_with_newer_write_may_return_older() -> None:
    b = Builder()
    b.op(1, "write", "k", "a", version=(1, "n1"))
    b.invoke(1, "write", "k", "b")
    b.op(2, "read", "k", "a", version=(1, "n1"))
    b.complete(1, version=(2, "n1"))
    assert check_graph(b.history()).valid is True


def test_non_monotonic_read() -> None:
    b = Builder()
    b.op(1, "write", "k", "a", version=(1, "n1"))
    b.invoke(1, "write", "k", "b")  # still in flight: an older read is not stale
    b.op(2, "read", "k", "b", version=(2, "n1"))
    b.op(3, "read", "k", "a", version=(1, "n1"))
    assert kinds(b.history()) == ["non-monotonic-read"]


def test_phantom_read_and_version_mismatch() -> None:
    b = Builder()
    b.op(1, "write", "k", "a", version=(1, "n1"))
    b.op(2, "read", "k", "zzz", version=(1, "n1"))
    b.op(2, "read", "k", "a", version=(7, "n9"))
    b.op(2, "read", "k", None, version=(1, "n1"))
    assert kinds(b.history()) == ["phantom-read"] * 3


def test_aborted_read() -> None:
    b = Builder()
    b.op(1, "write", "k", "a", type="fail")
    b.op(2, "read", "k", "a")
    assert kinds(b.history()) == ["aborted-read"]


def test_info_write_may_be_read_and_takes_its_version_from_the_read() -> None:
    b = Builder()
    b.op(1, "write", "k", "a", type="info")
    b.op(6, "read", "k", "a", version=(1, "n1"))
    b.op(6, "read", "k", "a", version=(1, "n1"))
    assert check_graph(b.history()).valid is True


def test_version_collision() -> None:
    b = Builder()
    b.invoke(1, "write", "k", "a")
    b.invoke(2, "write", "k", "b")
    b.complete(1, version=(1, "n1"))
    b.complete(2, version=(1, "n1"))
    assert kinds(b.history()) == ["version-collision"]


def test_version_inversion() -> None:
    b = two_writes()
    b.op(2, "write", "k", "c", version=(1, "n0"))
    assert kinds(b.history()) == ["version-inversion"]


def test_future_read() -> None:
    b = Builder()
    b.op(2, "read", "k", "a", version=(1, "n1"))
    b.op(1, "write", "k", "a", version=(1, "n1"))
    assert kinds(b.history()) == ["future-read"]


def test_lost_write_from_final_reads_uses_the_newest_copy() -> None:
    b = two_writes()
    b.op(FINAL, "final-read", "k", "a", version=(1, "n1"), node="n1")
    assert kinds(b.history()) == ["lost-write"]
    b.op(FINAL, "final-read", "k", "b", version=(2, "n1"), node="n2")
    assert kinds(b.history()) == []  # n1 lagging is a convergence matter


def test_duplicate_written_values_make_the_key_unknown() -> None:
    b = Builder()
    b.op(1, "write", "k", "a", version=(1, "n1"))
    b.op(1, "write", "k", "a", version=(2, "n1"))
    result = check_graph(b.history())
    assert result.valid == "unknown"
    assert "k" in result.details["undecided_keys"]


def test_shortest_cycle_is_short_and_the_budget_fallback_elides_long_chains() -> None:
    b = Builder()
    for n in range(1, 200):
        b.op(1, "write", "k", f"v{n}", version=(n, "n1"))
    read = b.op(2, "read", "k", "v1", version=(1, "n1"))
    [shortest] = check_graph(b.history()).anomalies
    assert shortest.kind == "stale-read"
    assert shortest.ops == [read, 2]  # read -> v2 (the next version) -> read
    # the words name the write the cycle shows, and then the newest one, to say how stale
    assert "but write #2 (k) had been acknowledged with 'v2'" in shortest.explanation
    assert "by then write #396 (k) had been acknowledged with 'v199'" in shortest.explanation
    graph = KeyGraph("k", b.history().ops)
    [fallback] = graph.cycle_anomalies(ExplainBudget(0))
    assert fallback.ops == [read, 2, 4, 394, 396]  # v2, v3, ..., v198, v199 (the newest)
    assert "but write #396 (k)" in fallback.explanation and "by then" not in fallback.explanation
    assert any("194 more writes in version order" in s for s in fallback.details["cycle"])


# -- generated histories ------------------------------------------------------

register_params = st.fixed_dictionaries({
    "n_ops": st.integers(20, 200),
    "processes": st.integers(1, 8),
    "keys": st.integers(1, 3),
    "info_rate": st.sampled_from([0.0, 0.05, 0.2]),
    "fail_rate": st.sampled_from([0.0, 0.05]),
    "seed": st.integers(0, 2**32),
})


@settings(max_examples=60, deadline=None)
@given(register_params)
def test_histories_of_a_linearizable_register_pass(params: dict) -> None:
    result = check_graph(register_history(final_nodes=3, **params))
    assert result.valid is True, [a.explanation for a in result.anomalies]


def _latest(history: History, key: str) -> tuple[Op | None, Op | None]:
    """(newest op that wrote or saw a version, newest acknowledged write) on key."""
    seen = [op for op in history.ops if op.key == key and op.type == "ok" and op.version]
    acked = [op for op in seen if op.f == "write"]
    newest = max(seen, key=lambda op: op.version, default=None)
    return newest, max(acked, key=lambda op: op.version, default=None)


def inject(history: History, kind: str) -> tuple[History, int]:
    """Append ops showing one anomaly of ``kind``; returns the history and the op to blame."""
    key = max({op.key for op in history.ops}, key=lambda k: sum(
        op.key == k and op.f == "write" and op.type == "ok" for op in history.ops))
    newest, acked = _latest(history, key)
    assume(acked is not None)
    older = [op for op in history.ops if op.key == key and op.f == "write" and op.type == "ok"
             and op.version < acked.version]
    top = newest.version[0]
    b = Builder(history.events)
    p = 10_000
    if kind == "stale-read":
        assume(older)
        blame = b.op(p, "read", key, older[0].value, version=older[0].version)
    elif kind == "non-monotonic-read":
        b.invoke(p + 1, "write", key, "new")
        b.op(p, "read", key, "new", version=(top + 1, "x"))
        blame = b.op(p, "read", key, newest.value, version=newest.version)
    elif kind == "phantom-read":
        blame = b.op(p, "read", key, "nobody-wrote-this", version=(top, "x"))
    elif kind == "aborted-read":
        b.op(p, "write", key, "aborted", type="fail")
        blame = b.op(p, "read", key, "aborted")
    elif kind == "version-collision":
        blame = b.op(p, "write", key, "twin", version=newest.version)
    elif kind == "lost-write":
        b.op(p, "write", key, "lost", version=(top + 1, "x"))
        blame = b.op(FINAL, "final-read", key, newest.value, version=newest.version, node="n1")
    elif kind == "future-read":
        blame = b.op(p, "read", key, "future", version=(top + 1, "x"))
        b.op(p, "write", key, "future", version=(top + 1, "x"))
    else:
        blame = b.op(p, "write", key, "inverted", version=(0, "x"))
    return b.history(), blame


ALL_KINDS = ["stale-read", "non-monotonic-read", "phantom-read", "aborted-read",
             "version-collision", "lost-write", "future-read", "version-inversion"]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(params=register_params, kind=st.sampled_from(ALL_KINDS))
def test_one_injected_anomaly_is_found_and_named(params: dict, kind: str) -> None:
    params["n_ops"] = max(params["n_ops"], 60)
    history, blame = inject(register_history(**params), kind)
    result = check_graph(history)
    assert result.valid is False
    assert {a.kind for a in result.anomalies} == {kind}
    assert any(blame in a.ops for a in result.anomalies)


# -- the sweep against the graph it stands for ---------------------------------

@st.composite
def arbitrary_histories(draw: st.DrawFn) -> History:
    """Random reads of random writes with random versions: often full of cycles."""
    b = Builder()
    n_writes = draw(st.integers(1, 6))
    versions = [(draw(st.integers(1, 5)), draw(st.sampled_from("ab"))) for _ in range(n_writes)]
    busy: set[int] = set()
    writes_done = 0
    for _ in range(draw(st.integers(2, 30))):
        process = draw(st.integers(0, 3))
        if process in busy:
            outcome = draw(st.sampled_from(["ok", "ok", "ok", "info", "fail"]))
            invoke = b.open[process]
            if invoke.f == "write":
                n = int(invoke.value[1:])
                b.complete(process, outcome, version=versions[n] if outcome == "ok" else None)
            else:
                n = draw(st.integers(-1, n_writes - 1))
                seen = (None, None) if n < 0 else (f"w{n}", versions[n])
                b.complete(process, outcome, *seen)
            busy.discard(process)
        elif draw(st.booleans()) and writes_done < n_writes:
            b.invoke(process, "write", "k", f"w{writes_done}")
            writes_done += 1
            busy.add(process)
        else:
            b.invoke(process, "read", "k")
            busy.add(process)
    return b.history()


@settings(max_examples=300, deadline=None)
@given(arbitrary_histories())
def test_sweep_finds_a_cycle_exactly_when_the_full_graph_has_one(history: History) -> None:
    ops = [op for op in history.ops if op.key == "k"]
    graph = KeyGraph("k", ops)
    assume(graph.undecided is None)
    found = {a.kind for a in graph.cycle_anomalies(ExplainBudget(10))}
    assert bool(found & CYCLE_KINDS) == (not nx.is_directed_acyclic_graph(graph.to_networkx()))


@settings(max_examples=100, deadline=None)
@given(arbitrary_histories())
def test_every_reported_cycle_is_a_cycle_of_the_graph(history: History) -> None:
    graph = KeyGraph("k", [op for op in history.ops if op.key == "k"])
    assume(graph.undecided is None)
    full = graph.to_networkx()
    reachable = defaultdict(set)
    for anomaly in graph.cycle_anomalies(ExplainBudget(1000)):
        ops = anomaly.ops
        for a, b in zip(ops, [*ops[1:], ops[0]], strict=True):
            if b not in reachable[a]:
                reachable[a] = nx.descendants(full, a)
            assert b in reachable[a], (anomaly.explanation, a, b)


def assert_bulk_clears_only_clean_keys(history: History) -> set[int]:
    """suspect_keys never clears a key on which KeyGraph finds anything; returns
    the suspects."""
    columns = history.columns()
    suspects = suspect_keys(columns, columns.of_functions(GRAPH_FUNCTIONS))
    for key, ops in history.ops_by_key().items():
        graph = KeyGraph(key, [op for op in ops if op.f in GRAPH_FUNCTIONS])
        flagged = graph.anomalies or graph.undecided or graph.cycle_anomalies(ExplainBudget(0))
        assert not flagged or columns.keys.index(key) in suspects, key
    return suspects


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(params=register_params, kind=st.sampled_from([None, *ALL_KINDS]))
def test_the_bulk_sweep_never_clears_a_key_the_key_graph_would_flag(params: dict,
                                                                     kind: str | None) -> None:
    history = register_history(**params)
    if kind is not None:
        history, _ = inject(history, kind)
    suspects = assert_bulk_clears_only_clean_keys(history)
    assert kind is not None or not suspects  # a correct store's keys are all cleared


@settings(max_examples=300, deadline=None)
@given(arbitrary_histories())
def test_the_bulk_sweep_never_clears_an_arbitrary_key_the_key_graph_would_flag(
        history: History) -> None:
    assert_bulk_clears_only_clean_keys(history)
