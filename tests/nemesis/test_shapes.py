"""Partition shapes and target choices have the properties they claim."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nemesis import faults
from nemesis.faults import Fault, majority
from nemesis.kinds import KINDS


def nodes_of(n: int) -> list[str]:
    return [f"n{i}" for i in range(1, n + 1)]


def connected(grudge: faults.Grudge, a: str, b: str) -> bool:
    """Two nodes can talk over TCP only if neither drops the other."""
    return b not in grudge.get(a, ()) and a not in grudge.get(b, ())


def view(grudge: faults.Grudge, nodes: list[str], a: str) -> frozenset[str]:
    return frozenset(b for b in nodes if connected(grudge, a, b))


sizes = st.integers(min_value=3, max_value=11)
seeds = st.integers(min_value=0, max_value=2**32)


@given(n=st.integers(min_value=4, max_value=11), seed=seeds)
def test_ring_each_node_sees_a_majority_and_views_differ(n: int, seed: int) -> None:
    nodes = nodes_of(n)
    grudge = faults.ring(nodes, random.Random(seed))
    views = [view(grudge, nodes, a) for a in nodes]
    assert all(len(v) >= majority(n) for v in views)
    assert all(len(v) < n for v in views), "a ring must cut something"
    assert len(set(views)) == n, "no two nodes may see the same set"


def test_ring_is_exactly_majorities_for_five_nodes() -> None:
    nodes = nodes_of(5)
    grudge = faults.ring(nodes, random.Random(1))
    assert [len(view(grudge, nodes, a)) for a in nodes] == [3] * 5


def test_ring_refuses_three_nodes() -> None:
    with pytest.raises(ValueError):
        faults.ring(nodes_of(3), random.Random(0))


@given(n=sizes, seed=seeds)
def test_halves_split_majority_from_minority(n: int, seed: int) -> None:
    nodes = nodes_of(n)
    grudge = faults.halves(nodes, random.Random(seed))
    views = {view(grudge, nodes, a) for a in nodes}
    assert sorted(len(v) for v in views) == [n - majority(n), majority(n)]
    big, small = sorted(views, key=len, reverse=True)
    assert big.isdisjoint(small) and big | small == set(nodes)


@given(n=sizes, seed=seeds)
def test_bridge_joins_two_sides_through_one_node(n: int, seed: int) -> None:
    nodes = nodes_of(n)
    grudge = faults.bridge(nodes, random.Random(seed))
    bridges = [a for a in nodes if view(grudge, nodes, a) == set(nodes)]
    assert len(bridges) == 1
    others = [a for a in nodes if a != bridges[0]]
    sides = {view(grudge, nodes, a) - {bridges[0]} for a in others}
    assert len(sides) == 2
    left, right = sides
    assert left.isdisjoint(right) and left | right == set(others)
    assert abs(len(left) - len(right)) <= 1


@given(n=sizes, seed=seeds)
def test_isolate_cuts_exactly_one_node(n: int, seed: int) -> None:
    nodes = nodes_of(n)
    grudge = faults.isolate(nodes, random.Random(seed))
    alone = [a for a in nodes if view(grudge, nodes, a) == {a}]
    assert len(alone) == 1
    assert all(view(grudge, nodes, a) == set(nodes) - set(alone) for a in nodes if a not in alone)


@given(n=st.integers(min_value=2, max_value=11), seed=seeds)
def test_random_grudge_cuts_something_and_names_only_members(n: int, seed: int) -> None:
    nodes = nodes_of(n)
    grudge = faults.random_grudge(nodes, random.Random(seed))
    assert any(grudge.values())
    assert all(a not in dropped and dropped <= set(nodes) for a, dropped in grudge.items())


def test_random_grudge_produces_one_way_drops() -> None:
    rng = random.Random(7)
    one_way = 0
    for _ in range(50):
        g = faults.random_grudge(nodes_of(5), rng)
        one_way += sum(1 for a, ds in g.items() for b in ds if a not in g[b])
    assert one_way > 0


@pytest.mark.parametrize(("choice", "count"), [("one", 1), ("minority", 2),
                                                ("majority", 3), ("all", 5)])
def test_target_choice_sizes(choice: str, count: int) -> None:
    targets = faults.choose_targets(nodes_of(5), random.Random(3), choice)
    assert len(targets) == count and len(set(targets)) == count


def test_random_target_choice_uses_every_size() -> None:
    rng = random.Random(0)
    seen = {len(faults.choose_targets(nodes_of(5), rng)) for _ in range(200)}
    assert seen == {1, 2, 3, 5}


def test_make_fault_and_describe() -> None:
    fault = KINDS["partition-isolate"].decide(nodes_of(3), random.Random(0), None)
    described = fault.describe()
    assert described["kind"] == "partition-isolate"
    assert described["nodes"] == ["n1", "n2", "n3"]
    assert sum(len(v) for v in described["grudge"].values()) == 4  # 2 + 1 + 1
    assert Fault("kill", ("n2",)).describe() == {"kind": "kill", "nodes": ["n2"]}


@given(n=st.integers(min_value=2, max_value=11), seed=seeds)
def test_oneway_partition_drops_one_direction_only(n: int, seed: int) -> None:
    nodes = nodes_of(n)
    fault = KINDS["partition-oneway"].decide(nodes, random.Random(seed), None)
    assert fault.grudge is not None
    deaf = {a for a, dropped in fault.grudge.items() if dropped}
    talkers = set(nodes) - deaf
    assert len(deaf) == n // 2 and talkers
    for a in deaf:
        assert fault.grudge[a] == talkers, "a deaf node drops everything the others send"
    assert all(not fault.grudge.get(b) for b in talkers), "the others still hear it"
    assert set(fault.targets) == set(nodes)
