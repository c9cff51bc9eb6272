"""The schedule is seeded, alternates fault and heal, and the driver follows it."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from nemesis.driver import CHECK_EVENT, drive
from nemesis.kinds import scheduled_kinds
from nemesis.schedule import Schedule
from tests.nemesis.fake_backends import FakeBackend, RecordedProcesses

NODES = ["n1", "n2", "n3", "n4", "n5"]


def first(schedule: Schedule, count: int) -> list:
    return list(itertools.islice(schedule, count))


def test_reproducible_from_seed() -> None:
    a = first(Schedule(scheduled_kinds(), NODES, 5.0, seed=42), 40)
    b = first(Schedule(scheduled_kinds(), NODES, 5.0, seed=42), 40)
    c = first(Schedule(scheduled_kinds(), NODES, 5.0, seed=43), 40)
    assert [(s.at, s.action, s.fault.describe()) for s in a] == [
        (s.at, s.action, s.fault.describe()) for s in b]
    assert [s.fault.describe() for s in a] != [s.fault.describe() for s in c]


def test_iterating_twice_replays() -> None:
    schedule = Schedule(["kill", "partition-ring"], NODES, 1.0, seed=1)
    assert first(schedule, 10) == first(schedule, 10)


def test_alternates_fault_and_heal_with_jittered_gaps() -> None:
    steps = first(Schedule(scheduled_kinds(), NODES, 2.0, seed=5), 80)
    assert [s.action for s in steps] == ["start", "stop"] * 40
    for start, stop in zip(steps[::2], steps[1::2], strict=True):
        assert stop.fault is start.fault
    assert 0.5 <= steps[0].at <= 1.5, "a short warm-up before the first fault"
    faults = [stop.at - start.at for start, stop in zip(steps[::2], steps[1::2], strict=True)]
    heals = [start.at - stop.at for stop, start in zip(steps[1::2], steps[2::2], strict=False)]
    assert all(1.0 <= g <= 3.0 for g in faults)
    assert all(0.5 <= g <= 1.5 for g in heals), "heals last half the interval"
    assert len({round(g, 6) for g in faults + heals}) > 10, "gaps are jittered"
    assert {s.fault.kind for s in steps} == set(scheduled_kinds())


def test_kinds_are_dealt_from_a_shuffled_deck() -> None:
    """Every enabled kind once before any repeats, in an order that differs by seed."""
    rounds = []
    scheduled = scheduled_kinds()
    for seed in range(3):
        kinds = [s.fault.kind for s in first(Schedule(scheduled, NODES, 2.0, seed), 80)[::2]]
        for deal in range(0, 40 - len(scheduled), len(scheduled)):
            assert sorted(kinds[deal:deal + len(scheduled)]) == sorted(scheduled)
        rounds.append(kinds[:len(scheduled)])
    assert len({tuple(r) for r in rounds}) > 1


def test_the_first_fault_waits_at_most_the_interval() -> None:
    steps = first(Schedule(["kill"], NODES, 0.2, seed=1), 2)
    assert 0.1 <= steps[0].at <= 0.3


def test_target_restriction() -> None:
    steps = first(Schedule(["kill"], NODES, 1.0, seed=9, target_choice="majority"), 20)
    assert all(len(s.fault.targets) == 3 for s in steps)


def test_empty_and_bad_schedules() -> None:
    assert first(Schedule([], NODES, 1.0, seed=0), 5) == []
    with pytest.raises(ValueError):
        Schedule(["partition-ring"], NODES[:3], 1.0, seed=0)
    with pytest.raises(ValueError):
        Schedule(["kill"], NODES, 0.0, seed=0)


class PauseFails(RecordedProcesses):
    async def pause(self, node: str) -> None:
        raise RuntimeError("no such node")


def fake_backend() -> FakeBackend:
    """Records calls; fails pause to show that errors are recorded."""
    backend = FakeBackend()
    backend.offered = (PauseFails(backend.calls), *backend.offered[1:])
    return backend


async def drive_for(backend: FakeBackend, schedule: Schedule,
                    seconds: float) -> list[tuple[str, dict]]:
    """Run the driver for `seconds`, then stop it; what it recorded."""
    records: list[tuple[str, dict]] = []
    stop = asyncio.Event()
    t0 = time.monotonic()
    task = asyncio.create_task(
        drive(backend, schedule, lambda f, v: records.append((f, v)), stop,
              lambda: time.monotonic() - t0))
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.wait_for(task, 2)
    return records


async def test_driver_applies_steps_and_heals_on_stop() -> None:
    backend = fake_backend()
    records = await drive_for(
        backend, Schedule(["kill", "partition-halves", "pause"], NODES, 0.02, seed=3), 0.5)
    fs = [f for f, _ in records if f != CHECK_EVENT]
    assert len(fs) >= 6
    pairs = {"kill": "start", "start-partition": "stop-partition", "pause": "resume"}
    for start, stop_f in zip(fs[::2], fs[1::2], strict=False):
        assert pairs[start] == stop_f
    assert len(fs) % 2 == 0, "the last fault was healed"
    assert any("error" in v for f, v in records if f == "pause")
    killed = [c[1] for c in backend.calls if c[0] == "kill"]
    started = [c[1] for c in backend.calls if c[0] == "start"]
    assert sorted(killed) == sorted(started)


async def test_driver_heals_when_cancelled_mid_fault() -> None:
    backend = fake_backend()
    records: list[tuple[str, dict]] = []
    schedule = Schedule(["partition-ring"], NODES, 0.05, seed=0)
    t0 = time.monotonic()
    task = asyncio.create_task(
        drive(backend, schedule, lambda f, v: records.append((f, v)), asyncio.Event(),
              lambda: time.monotonic() - t0))
    while not records:
        await asyncio.sleep(0.005)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [f for f, _ in records][-1] == "stop-partition"
    assert backend.calls[-1] == ("heal",)


async def test_driver_applies_and_undoes_delay_and_clock_skew() -> None:
    backend = fake_backend()
    records = await drive_for(backend, Schedule(["delay", "clock-skew"], NODES, 0.02, seed=5),
                              0.4)
    fs = [f for f, _ in records]
    assert {"start-delay", "skew-clock"} <= set(fs)
    pairs = {"start-delay": "stop-delay", "skew-clock": "reset-clock"}
    for start, stop_f in zip(fs[::2], fs[1::2], strict=True):
        assert pairs[start] == stop_f
    assert ("delay", 10.0, 10.0, 0.4) in backend.calls
    skews = [c for c in backend.calls if c[0] == "skew"]
    assert any(c[2] != 0 for c in skews)
    # every skewed node is reset to offset 0 afterwards
    last = {node: offset for _, node, offset in skews}
    assert set(last.values()) == {0.0}
    assert backend.calls.count(("clear-delay",)) == fs.count("stop-delay")
