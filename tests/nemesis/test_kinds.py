"""The fault-kind registry: parsing of --nemesis, and every kind drives only the
capability it names."""

from __future__ import annotations

import random

import pytest

from nemesis.capabilities import CAPABILITY_NAMES, ClockControl, NetworkFaults, ProcessControl
from nemesis.driver import CHECK_EVENT, apply
from nemesis.kinds import (
    DEFAULT_NEMESIS,
    KINDS,
    check_capabilities,
    parse_nemesis,
    parse_target_choice,
    scheduled_kinds,
)
from tests.nemesis.fake_backends import (
    RECORDERS,
    FakeBackend,
    RecordedNetwork,
    RecordedProcesses,
)

NODES = ["n1", "n2", "n3", "n4", "n5"]


def test_all_and_none() -> None:
    assert parse_nemesis("all") == scheduled_kinds()
    assert parse_nemesis("none") == []
    assert parse_nemesis("") == []


def test_default_is_crashes_partitions_and_delay_that_fit_the_cluster() -> None:
    assert parse_nemesis("default") == DEFAULT_NEMESIS.split(",")
    assert "delay" in parse_nemesis("default")
    three = parse_nemesis("default", n_nodes=3)  # a 3-node run must not need --nemesis
    assert "partition-ring" not in three and "partition-halves" in three


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


@pytest.mark.parametrize("name", list(KINDS))
async def test_each_kind_starts_and_stops_through_its_capability_alone(name: str) -> None:
    kind = KINDS[name]
    assert kind.name == name and kind.help and kind.colour and kind.label
    assert kind.capability in CAPABILITY_NAMES
    assert kind.events[0] != kind.events[1]
    fault = kind.decide(NODES, random.Random(1), None)
    assert fault.kind == name and fault.targets
    mechanism = RECORDERS[kind.capability]()
    records: list[tuple[str, dict]] = []
    for action in ("start", "stop"):
        await apply(FakeBackend(mechanism), fault, action,
                    lambda f, value: records.append((f, value)))
    checks = [value for f, value in records if f == CHECK_EVENT]
    assert [f for f, _ in records if f != CHECK_EVENT] == list(kind.events)
    assert all("error" not in value for _, value in records)
    if kind.capability is NetworkFaults and fault.grudge is not None:
        assert [c["took_effect"] for c in checks] == [True]  # the fake applied it
        assert checks[0]["probes"] == len(fault.targets) * (len(fault.targets) - 1)
    else:
        assert checks == []
    assert len(mechanism.calls) >= 2, "start and stop both reached the backend"


@pytest.mark.parametrize("name", [n for n, k in KINDS.items() if k.capability is NetworkFaults
                                  and n.startswith("partition")])
async def test_a_partition_that_silently_cuts_nothing_is_recorded_as_not_taking_effect(
        name: str) -> None:
    fault = KINDS[name].decide(NODES, random.Random(1), None)
    records: list[tuple[str, dict]] = []
    await apply(FakeBackend(RecordedNetwork(silent=True)), fault, "start",
                lambda f, value: records.append((f, value)))
    (check,) = [value for f, value in records if f == CHECK_EVENT]
    assert check["took_effect"] is False and check["kind"] == name
    assert check["wrong"] and all("answered though cut" in w for w in check["wrong"])


async def test_a_missing_capability_is_recorded_not_raised() -> None:
    records: list[tuple[str, dict]] = []
    fault = KINDS["delay"].decide(NODES, random.Random(0), None)
    await apply(FakeBackend(RecordedProcesses()), fault, "start",
                lambda f, value: records.append((f, value)))
    assert records[0][0] == "start-delay"
    assert "offers no network faults" in records[0][1]["error"]


def test_capability_check_names_the_kind_and_what_it_needs() -> None:
    check_capabilities(["kill", "clock-skew"], {ProcessControl, ClockControl}, "test")
    with pytest.raises(ValueError, match="'partition-ring' needs network faults") as err:
        check_capabilities(["kill", "partition-ring"], {ProcessControl}, "test")
    assert "\n" not in str(err.value) and "test backend" in str(err.value)
