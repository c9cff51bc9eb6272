"""Version order and JSON form; rendezvous placement."""

from __future__ import annotations

import pytest

from replica.placement import preference_list
from replica.version import Version


def test_versions_order_by_counter_then_writer() -> None:
    assert Version(1, "z") < Version(2, "a")
    assert Version(2, "a") < Version(2, "b")
    assert max(Version(3, "a"), Version(2, "z")) == Version(3, "a")


def test_version_json_round_trip_and_rejects() -> None:
    assert Version.from_json([5, "n:n1:1"]) == Version(5, "n:n1:1")
    assert Version(5, "n:n1:1").to_json() == [5, "n:n1:1"]
    for bad in (None, [1], [1, ""], ["1", "a"], [True, "a"], [-1, "a"], [1.5, "a"], "1,a"):
        with pytest.raises(ValueError):
            Version.from_json(bad)


def test_preference_list_is_deterministic_and_spread() -> None:
    nodes = [f"n{i}" for i in range(1, 6)]
    assert preference_list("k", nodes, 5) == sorted(nodes)
    lists = {key: preference_list(key, nodes, 3) for key in (f"key{i}" for i in range(200))}
    assert all(len(set(pl)) == 3 and set(pl) <= set(nodes) for pl in lists.values())
    assert lists["key7"] == preference_list("key7", list(reversed(nodes)), 3)
    first = {pl[0] for pl in lists.values()}
    assert first == set(nodes)  # every node leads some keys
