"""The fault-kind registry: parsing of --nemesis, and every kind drives only the
capability it names."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Collection

import pytest

from nemesis import kinds
from nemesis.capabilities import CAPABILITY_NAMES, ClockControl, NetworkFaults, ProcessControl
from nemesis.driver import CHECK_EVENT, apply
from nemesis.faults import Fault
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


class StartingNode(RecordedNetwork):
    """``n3`` is still starting: it answers no one for its first ``silent_s`` seconds."""

    def __init__(self, silent_s: float) -> None:
        super().__init__()
        self.ready_at = asyncio.get_running_loop().time() + silent_s

    async def answers(self, src: str, dsts: Collection[str]) -> dict[str, bool]:
        replies = await super().answers(src, dsts)
        if "n3" in replies and asyncio.get_running_loop().time() < self.ready_at:
            replies["n3"] = False
        return replies


async def test_a_target_still_starting_is_probed_again_not_called_a_failed_partition(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kinds, "REPROBE_EVERY_S", 0.01)
    fault = KINDS["partition-isolate"].by_hand(NODES, ["n1"], random.Random(0))
    check = await KINDS["partition-isolate"].check(await _started(StartingNode(0.05), fault),
                                                   fault)
    assert check["took_effect"] is True and check["wrong"] == []
    assert check["probes"] > 20  # n2, n4, n5 -> n3 were probed again until n3 served

    monkeypatch.setattr(kinds, "WHOLE_PAIR_GRACE_S", 0.05)  # a node that never comes
    check = await KINDS["partition-isolate"].check(await _started(StartingNode(60), fault),
                                                   fault)
    assert check["took_effect"] is False
    assert check["wrong"] == [f"{src}->n3 got no answer though left whole"
                              for src in ("n2", "n4", "n5")]


async def _started(network: RecordedNetwork, fault: Fault) -> RecordedNetwork:
    assert fault.grudge is not None
    await network.partition(fault.grudge)
    return network
