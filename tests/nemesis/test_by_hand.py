"""Faults as a person names them (`quorumlab fault KIND WORDS...`)."""

from __future__ import annotations

import random

import pytest

from nemesis.kinds import KINDS, parse_nemesis, scheduled_kinds

NODES = ("n1", "n2", "n3", "n4", "n5")


def by_hand(kind: str, *words: str):
    return KINDS[kind].by_hand(NODES, words, random.Random(0))


def test_process_faults_take_nodes_or_a_target_choice() -> None:
    assert by_hand("kill", "n2").targets == ("n2",)
    assert by_hand("pause", "n4,n1").targets == ("n4", "n1")
    assert by_hand("pause", "n4", "n1").targets == ("n4", "n1")
    assert len(by_hand("kill", "majority").targets) == 3
    assert len(by_hand("kill").targets) == 1  # a person's default: one node


def test_isolate_and_explicit_partitions_cut_what_is_named() -> None:
    isolated = by_hand("partition-isolate", "n3")
    assert isolated.grudge["n3"] == {"n1", "n2", "n4", "n5"}
    assert isolated.grudge["n1"] == {"n3"}
    split = by_hand("partition", "n1,n2/n3,n4,n5")
    assert split.grudge["n1"] == {"n3", "n4", "n5"} and split.grudge["n4"] == {"n1", "n2"}
    partial = by_hand("partition", "n1/n2")
    assert "n5" not in partial.grudge  # left out: talks to everyone
    halves = by_hand("partition-halves")
    assert sorted(len(cut) for cut in halves.grudge.values()) == [2, 2, 2, 3, 3]


def test_delay_and_clock_skew_take_amounts() -> None:
    assert by_hand("delay", "50ms").delay == (50.0, 0.0, 0.0)
    assert by_hand("delay", "0.1s", "20ms", "5%").delay == pytest.approx((100.0, 20.0, 0.05))
    assert by_hand("delay").delay == KINDS["delay"].decide(NODES, random.Random(0), None).delay
    skew = by_hand("clock-skew", "n1", "+30s", "n2", "-500ms")
    assert skew.offsets == {"n1": 30.0, "n2": -0.5} and skew.targets == ("n1", "n2")


@pytest.mark.parametrize(("kind", "words", "message"), [
    ("kill", ("n9",), "unknown node 'n9'; the cluster has n1, n2, n3, n4, n5"),
    ("partition-isolate", ("n1", "n2"), "expected a node"),
    ("partition", ("n1,n2",), "components like n1,n2/n3"),
    ("partition", ("n1,n2/n2,n3",), "a node is in two components"),
    ("delay", ("fast",), "delay 'fast': write e.g. 50ms"),
    ("delay", ("5ms", "1ms", "150%"), "between 0 and 100%"),
    ("clock-skew", ("n1",), "NODE OFFSET pairs"),
    ("partition-ring", ("n1",), "takes no arguments"),
])
def test_bad_words_are_one_line_errors(kind: str, words: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")) as raised:
        by_hand(kind, *words)
    assert "\n" not in str(raised.value)


def test_the_explicit_partition_is_never_scheduled() -> None:
    assert "partition" in KINDS and "partition" not in scheduled_kinds()
    assert "partition" not in parse_nemesis("all")
    with pytest.raises(ValueError, match="applied by hand only"):
        parse_nemesis("partition")
