"""Parsing of the --nemesis flag."""

from __future__ import annotations

import pytest

from nemesis.kinds import KINDS, parse_nemesis, parse_target_choice


def test_all_and_none() -> None:
    assert parse_nemesis("all") == list(KINDS)
    assert parse_nemesis("none") == []
    assert parse_nemesis("") == []


def test_comma_list_keeps_order_and_drops_repeats() -> None:
    assert parse_nemesis("partition-ring, kill,kill") == ["partition-ring", "kill"]


def test_bad_name_is_one_line_error() -> None:
    with pytest.raises(ValueError, match="unknown nemesis 'kil'") as err:
        parse_nemesis("kill,kil")
    assert "\n" not in str(err.value)


def test_cluster_size_filters_all_and_rejects_explicit() -> None:
    assert "partition-ring" not in parse_nemesis("all", n_nodes=3)
    assert "partition-halves" in parse_nemesis("all", n_nodes=3)
    with pytest.raises(ValueError, match="needs --nodes 4 or more"):
        parse_nemesis("partition-ring", n_nodes=3)


def test_target_choice() -> None:
    assert parse_target_choice("majority") == "majority"
    assert parse_target_choice(None) is None
    with pytest.raises(ValueError):
        parse_target_choice("most")
