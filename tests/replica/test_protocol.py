"""The sans-I/O quorum core, message by message."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from replica.protocol import (
    EARLY_ACK,
    NO_READ_REPAIR,
    ArmTimer,
    Failed,
    Get,
    NoReply,
    Put,
    ReadOp,
    ReadResult,
    Reply,
    Send,
    Timeout,
    WriteOp,
    WriteResult,
)
from replica.version import Version

NODES = ["n1", "n2", "n3"]
V1 = Version(1, "a")
V2 = Version(2, "b")


def sends(actions: list) -> dict[str, Get | Put]:
    return {a.node: a.msg for a in actions if isinstance(a, Send)}


def test_write_reads_highest_version_then_writes_counter_plus_one() -> None:
    op = WriteOp("k", "v", NODES, r=2, w=2, writer="me")
    first = op.start()
    assert ArmTimer(1) in first
    assert sends(first) == {node: Get("k") for node in NODES}
    assert op.handle(Reply("n1", 1, "old", V2)) == []
    second = op.handle(Reply("n2", 1, None, None))
    assert sends(second) == {node: Put("k", "v", Version(3, "me")) for node in NODES}
    assert ArmTimer(2) in second
    op.handle(Reply("n3", 2, None, Version(3, "me")))
    assert not op.done
    op.handle(Reply("n1", 2, None, Version(3, "me")))
    assert op.outcome == WriteResult(Version(3, "me"))


def test_write_ignores_stale_phase_and_duplicate_replies() -> None:
    op = WriteOp("k", "v", NODES, r=2, w=2, writer="me")
    op.start()
    op.handle(Reply("n1", 1, None, None))
    op.handle(Reply("n1", 1, None, None))  # duplicate: still one answer
    assert not op.done and op.version is None
    op.handle(Reply("n2", 1, None, None))
    op.handle(Reply("n3", 1, None, V2))  # late phase-1 reply: ignored
    assert op.version == Version(1, "me")
    op.handle(Reply("n3", 2, None, Version(1, "me")))
    assert not op.done


def test_write_failure_is_definite_only_when_nothing_was_delivered() -> None:
    op = WriteOp("k", "v", NODES, r=1, w=2, writer="me")
    op.start()
    op.handle(Reply("n1", 1, None, None))
    for node in NODES:
        op.handle(NoReply(node, 2, delivered=False, reason="refused"))
    assert isinstance(op.outcome, Failed) and op.outcome.definite

    op = WriteOp("k", "v", NODES, r=1, w=2, writer="me")
    op.start()
    op.handle(Reply("n1", 1, None, None))
    op.handle(Reply("n1", 2, None, Version(1, "me")))
    op.handle(NoReply("n2", 2, delivered=False, reason="refused"))
    assert not op.done  # n3 may still answer
    op.handle(NoReply("n3", 2, delivered=True, reason="timed out"))
    assert isinstance(op.outcome, Failed) and not op.outcome.definite


def test_write_phase_timeouts() -> None:
    op = WriteOp("k", "v", NODES, r=2, w=2, writer="me")
    op.start()
    op.handle(Reply("n1", 1, None, None))
    op.handle(Timeout(1))
    assert isinstance(op.outcome, Failed) and op.outcome.definite  # nothing written yet

    op = WriteOp("k", "v", NODES, r=2, w=2, writer="me")
    op.start()
    op.handle(Reply("n1", 1, None, None))
    op.handle(Reply("n2", 1, None, None))
    assert op.handle(Timeout(1)) == []  # an old phase's timer: ignored
    assert not op.done
    op.handle(Timeout(2))
    assert isinstance(op.outcome, Failed) and not op.outcome.definite


def test_write_version_read_fails_fast_when_quorum_impossible() -> None:
    op = WriteOp("k", "v", NODES, r=2, w=2, writer="me")
    op.start()
    op.handle(NoReply("n1", 1, delivered=False, reason="refused"))
    assert not op.done
    op.handle(NoReply("n2", 1, delivered=True, reason="reset"))
    assert isinstance(op.outcome, Failed) and op.outcome.definite


def test_concurrent_writes_of_one_writer_get_distinct_counters() -> None:
    issued: dict[str, int] = {}
    ops = [WriteOp("k", v, NODES, r=2, w=2, writer="me", issued=issued) for v in "ab"]
    for op in ops:
        op.start()
    for op in ops:  # both see the same highest version
        op.handle(Reply("n1", 1, None, V1))
        op.handle(Reply("n2", 1, None, V1))
    assert [op.version for op in ops] == [Version(2, "me"), Version(3, "me")]


def test_fixed_counter_skips_the_version_read() -> None:
    op = WriteOp("k", "v", NODES, r=2, w=2, writer="me", fixed_counter=42)
    assert sends(op.start()) == {node: Put("k", "v", Version(42, "me")) for node in NODES}


def test_early_ack_bug_acknowledges_after_w_minus_one() -> None:
    correct = WriteOp("k", "v", NODES, r=1, w=2, writer="me")
    buggy = WriteOp("k", "v", NODES, r=1, w=2, writer="me", bugs=frozenset({EARLY_ACK}))
    for op in (correct, buggy):
        op.start()
        op.handle(Reply("n1", 1, None, None))
        op.handle(Reply("n1", 2, None, Version(1, "me")))
    assert not correct.done
    assert buggy.outcome == WriteResult(Version(1, "me"))


def test_read_writes_back_until_a_write_quorum_holds_the_value() -> None:
    op = ReadOp("k", NODES, r=2, w=2)
    assert sends(op.start()) == {node: Get("k") for node in NODES}
    op.handle(Reply("n1", 1, "new", V2))
    actions = op.handle(Reply("n2", 1, "old", V1))
    # n1 holds V2; n2 (behind) and n3 (no answer yet) get the write-back.
    assert sends(actions) == {"n2": Put("k", "new", V2), "n3": Put("k", "new", V2)}
    assert not op.done
    op.handle(Reply("n3", 2, None, V2))
    assert op.outcome == ReadResult("new", V2)


def test_read_late_phase_one_reply_with_same_version_counts_as_holder() -> None:
    op = ReadOp("k", NODES, r=2, w=3)
    op.start()
    op.handle(Reply("n1", 1, "new", V2))
    op.handle(Reply("n2", 1, "new", V2))
    assert not op.done  # 2 holders < w=3: write-back to n3
    op.handle(Reply("n3", 1, "new", V2))
    assert op.outcome == ReadResult("new", V2)


def test_read_without_write_back_when_quorum_already_holds_it() -> None:
    op = ReadOp("k", NODES, r=2, w=2)
    op.start()
    op.handle(Reply("n1", 1, "x", V1))
    assert op.handle(Reply("n3", 1, "x", V1)) == []
    assert op.outcome == ReadResult("x", V1)


def test_read_of_never_written_key() -> None:
    op = ReadOp("k", NODES, r=2, w=2)
    op.start()
    op.handle(Reply("n1", 1, None, None))
    op.handle(Reply("n2", 1, None, None))
    assert op.outcome == ReadResult(None, None)


def test_no_read_repair_bug_returns_without_write_back() -> None:
    op = ReadOp("k", NODES, r=2, w=2, bugs=frozenset({NO_READ_REPAIR}))
    op.start()
    op.handle(Reply("n1", 1, "new", V2))
    assert op.handle(Reply("n2", 1, "old", V1)) == []
    assert op.outcome == ReadResult("new", V2)


def test_read_failures() -> None:
    op = ReadOp("k", NODES, r=2, w=2)
    op.start()
    op.handle(Reply("n1", 1, "x", V1))
    op.handle(Timeout(1))
    assert isinstance(op.outcome, Failed) and "1 of r=2" in op.outcome.message

    op = ReadOp("k", NODES, r=2, w=3)
    op.start()
    op.handle(Reply("n1", 1, "new", V2))
    op.handle(Reply("n2", 1, "old", V1))
    op.handle(NoReply("n3", 2, delivered=True, reason="timed out"))
    assert isinstance(op.outcome, Failed) and not op.outcome.definite


def test_done_operation_ignores_further_events() -> None:
    op = ReadOp("k", NODES, r=1, w=1)
    op.start()
    op.handle(Reply("n1", 1, "x", V1))
    assert op.outcome == ReadResult("x", V1)
    assert op.handle(Reply("n2", 1, "y", V2)) == []
    assert op.outcome == ReadResult("x", V1)


@pytest.mark.parametrize(("r", "w"), [(0, 1), (1, 4), (4, 1)])
def test_rejects_impossible_quorums(r: int, w: int) -> None:
    with pytest.raises(ValueError):
        ReadOp("k", NODES, r=r, w=w)


def test_every_replica_is_asked_at_once_and_the_first_r_answers_count() -> None:
    op = ReadOp("k", NODES, r=2, w=2)
    first = op.start()
    assert sends(first) == {node: Get("k") for node in NODES}
    assert [a for a in first if isinstance(a, ArmTimer)] == [ArmTimer(1)]
    op.handle(NoReply("n2", 1, delivered=False, reason="refused"))
    op.handle(Reply("n1", 1, "x", V1))
    assert not op.done
    op.handle(Reply("n3", 1, "x", V1))
    assert op.outcome == ReadResult("x", V1)


def test_a_read_quorum_out_of_reach_is_a_definite_failure() -> None:
    op = ReadOp("k", NODES, r=3, w=1)
    op.start()
    op.handle(NoReply("n1", 1, delivered=False, reason="refused"))
    assert isinstance(op.outcome, Failed) and op.outcome.definite


FATES = st.sampled_from(["ok", "refused", "lost", "silent"])


@given(st.lists(FATES, min_size=5, max_size=5), st.lists(FATES, min_size=5, max_size=5),
       st.permutations(range(5)))
def test_write_outcome_follows_the_replies(phase1: list[str], phase2: list[str],
                                           order: list[int]) -> None:
    """Whatever the replies and their order: a write succeeds only with w acks
    after r version replies, and fails definitely only if no Put was delivered."""
    op = WriteOp("k", "v", [f"n{i}" for i in range(5)], r=3, w=3, writer="me")
    outstanding = [a for a in op.start() if isinstance(a, Send)]
    while not op.done:
        if outstanding:
            outstanding.sort(key=lambda a: order.index(int(a.node[1:])))
            send = outstanding.pop(0)
            fate = (phase1 if send.phase == 1 else phase2)[int(send.node[1:])]
            if fate == "silent":
                continue
            if fate == "ok":
                event = Reply(send.node, send.phase, None,
                              Version(1, "x") if send.phase == 1 else Version(2, "me"))
            else:
                event = NoReply(send.node, send.phase, delivered=fate == "lost", reason=fate)
        else:  # nothing more will answer: the phase's deadline
            event = Timeout(1 if op.version is None else 2)
        outstanding += [a for a in op.handle(event) if isinstance(a, Send)]
    if isinstance(op.outcome, WriteResult):
        assert phase1.count("ok") >= 3 and phase2.count("ok") >= 3
        assert op.outcome.version == Version(2, "me")
    else:
        assert isinstance(op.outcome, Failed)
        if op.version is None:
            assert phase1.count("ok") < 3 and op.outcome.definite
        else:
            assert phase2.count("ok") < 3
            assert op.outcome.definite == all(f == "refused" for f in phase2)
