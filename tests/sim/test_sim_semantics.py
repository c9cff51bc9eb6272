"""The simulator's storage and fault semantics, on hand-written schedules: the
correct replica keeps an acknowledged write through a crash of every node, the
async-commit and amnesia bugs lose it, a one-way partition drops one direction,
a write waits for the slow disks its quorum needs."""

from __future__ import annotations

import pytest

from checkers.api import check
from sim.network import Network
from sim.schedule import ClientOp, FaultEvent, Schedule, ScheduleError
from sim.search import check_run
from sim.simulation import simulate

WRITE_THEN_READ = ((ClientOp(0.0, "write", 0), ClientOp(200.0, "read", 0)),)
KILL_ALL = (FaultEvent(at_ms=50.0, kind="kill", duration_ms=10.0, targets="all"),)


def _final_copies(schedule: Schedule) -> list[object]:
    result = simulate(schedule)
    return [event.value for event in result.events if event.f == "final-read"
            and event.type == "ok"]


def test_a_durable_write_survives_every_node_crashing() -> None:
    schedule = Schedule(nodes=3, clients=WRITE_THEN_READ, faults=KILL_ALL)
    result = simulate(schedule)
    assert check(result.history).verdict is True
    assert _final_copies(schedule) == ["0-1"] * 3
    reads = [e for e in result.events if e.process == 0 and e.f == "read" and e.type == "ok"]
    assert reads and reads[0].value == "0-1"


def test_async_commit_loses_the_acknowledged_write_at_a_crash() -> None:
    schedule = Schedule(nodes=3, clients=WRITE_THEN_READ, faults=KILL_ALL,
                        bugs=("async-commit",))
    assert _final_copies(schedule) == [None] * 3
    report = check_run(simulate(schedule))
    assert report.verdict is False
    kinds = {a.kind for r in report.results for a in r.anomalies}
    assert "lost-write" in kinds


def test_without_a_crash_async_commit_loses_nothing() -> None:
    schedule = Schedule(nodes=3, clients=WRITE_THEN_READ, bugs=("async-commit",))
    assert check_run(simulate(schedule)).verdict is True


def test_amnesia_forgets_on_restart_and_the_restarted_node_writes_as_a_new_boot() -> None:
    schedule = Schedule(nodes=3, clients=((*WRITE_THEN_READ[0], ClientOp(0.0, "write", 0)),),
                        faults=KILL_ALL, bugs=("amnesia",))
    result = simulate(schedule)
    writes = [e for e in result.events if e.f == "write" and e.type == "ok"]
    assert writes[0].version == (1, "n:n1:1")
    assert writes[-1].version == (1, "n:n1:2")  # the old write is forgotten: counter 1 again
    assert check_run(result).verdict is False


def test_a_one_way_partition_drops_exactly_one_direction() -> None:
    network = Network(Schedule(nodes=2))
    network.grudges.append({"n1": frozenset({"n2"})})
    assert network.transit(0.0, "n2", "n1") == []
    assert len(network.transit(0.0, "n1", "n2")) == 1


def test_a_paused_node_answers_after_it_resumes() -> None:
    pause = (FaultEvent(at_ms=0.0, kind="pause", duration_ms=300.0, targets="one", seed=1),)
    schedule = Schedule(nodes=3, clients=((ClientOp(1.0, "write", 0),),) * 3, faults=pause)
    result = simulate(schedule)
    paused = result.events[0].value["nodes"]
    assert result.events[0].f == "pause" and len(paused) == 1
    by_home = {e.node: e for e in result.events if e.f == "write" and e.type != "invoke"}
    # ops homed at the paused node wait for it (here past the 300 ms pause), the others do not
    assert by_home[paused[0]].time >= 300_000_000
    assert all(e.time < 300_000_000 for node, e in by_home.items() if node != paused[0])
    assert check(result.history).verdict is True


def test_a_write_waits_for_the_slow_disks_it_needs_for_its_quorum() -> None:
    write = ((ClientOp(0.0, "write", 0),),)

    def write_took_ms(disks: tuple[float, ...]) -> float:
        result = simulate(Schedule(nodes=3, clients=write, disks_ms=disks))
        invoke, done = (e for e in result.events if e.f == "write")
        assert done.type == "ok"
        return (done.time - invoke.time) / 1e6

    assert write_took_ms(()) < 10
    assert write_took_ms((1.0, 1.0, 50.0)) < 10  # the quorum of two never waits for n3
    assert write_took_ms((1.0, 50.0, 50.0)) >= 25  # a commit takes 0.5-1.5 times the mean


def test_disks_ms_needs_one_per_node() -> None:
    with pytest.raises(ScheduleError, match="disks_ms"):
        Schedule(nodes=3, clients=WRITE_THEN_READ, disks_ms=(1.0, 2.0)).validate()
