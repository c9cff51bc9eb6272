"""The schedule-level shrinking passes, on predicates whose minimum is known,
and the per-client random streams that let a cut leave the other clients'
draws as they were."""

from __future__ import annotations

from dataclasses import replace

from sim.schedule import ClientOp, FaultEvent, Schedule
from sim.shrink import cuts, size, tighten
from sim.simulation import simulate

WRITE, READ = ClientOp(1.0, "write", 0), ClientOp(2.0, "read", 0)
BIG = Schedule(nodes=4, clients=((WRITE, READ, WRITE), (READ, READ), (WRITE,), (READ, WRITE)),
               faults=(FaultEvent(at_ms=5.0, kind="kill", duration_ms=10.0),
                       FaultEvent(at_ms=9.0, kind="partition-halves", duration_ms=20.0)),
               delays_ms=(5.0, 7.0), disks_ms=(50.0, 1.0, 1.0, 50.0))


def _ops(schedule: Schedule) -> list[str]:
    return [op.f for ops in schedule.clients for op in ops]


def test_tighten_reaches_the_known_minimum_and_no_single_cut_still_fails() -> None:
    def fails(schedule: Schedule) -> bool:  # two writes and a read, anywhere
        ops = _ops(schedule)
        return ops.count("write") >= 2 and ops.count("read") >= 1

    tight = tighten(BIG, fails)
    assert fails(tight)
    assert size(tight) == (3, 0, 1)  # 3 ops, no fault, one node
    assert not any(fails(cut) for cut in cuts(tight))
    assert tight.delays_ms == () and tight.disks_ms == ()  # simplified where it could be


def test_tighten_keeps_what_the_failure_needs() -> None:
    def fails(schedule: Schedule) -> bool:  # a partition, and a client reading then writing
        return (any(f.kind == "partition-halves" for f in schedule.faults)
                and any(tuple(op.f for op in ops) == ("read", "write")
                        for ops in schedule.clients))

    tight = tighten(BIG, fails)
    assert [f.kind for f in tight.faults] == ["partition-halves"]
    assert tight.nodes == 3  # the smallest cluster that can be cut in halves
    assert _ops(tight) == ["read", "write"]


def test_a_client_s_message_delays_do_not_move_when_another_client_loses_an_op() -> None:
    writes = (ClientOp(0.0, "write", 0),) * 3
    schedule = Schedule(nodes=3, clients=((WRITE, WRITE, WRITE), writes), seed=11)
    cut = replace(schedule, clients=((WRITE, WRITE), writes))

    def client_1_delays(s: Schedule) -> list[float]:
        result = simulate(s, trace=True)
        tags = {e.index for e in result.events if e.process == 1 and e.type == "invoke"}
        assert result.trace is not None
        return sorted(round(t - m.at, 9) for m in result.trace if m.tag in tags
                      for t in m.arrivals)

    before, after = client_1_delays(schedule), client_1_delays(cut)
    assert len(before) >= 3 * 6  # three writes, each a get and a put to two peers and replies
    assert before == after
