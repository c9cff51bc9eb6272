"""Live progress: the tally, event by event, and what it prints off a terminal."""

from __future__ import annotations

import io

from rich.console import Console

from checkers.history import NEMESIS, Event
from harness.live import LiveProgress, RunTally
from tests.harness.stored_runs import stored


def feed(tally: RunTally, events: list[Event]) -> RunTally:
    for event in events:
        tally.observe(event)
    return tally


def test_the_online_check_counts_a_read_older_than_an_acknowledged_write() -> None:
    tally = feed(RunTally(), stored("stale-read.jsonl").events)
    assert tally.stale_reads == 1 and tally.first_stale_s == 0.28
    assert tally.outcomes == {"ok": 8, "fail": 1, "info": 1}
    assert tally.faults_started == 2 and tally.active_faults == {}


def test_the_online_check_accuses_no_valid_history() -> None:
    assert feed(RunTally(), stored("valid.jsonl").events).stale_reads == 0


def test_a_read_concurrent_with_a_write_may_return_the_older_version() -> None:
    events = [
        Event(0, 0, 0, "invoke", "write", key="k", value="a"),
        Event(1, 1, 0, "ok", "write", key="k", value="a", version=(1, "n1")),
        Event(2, 2, 1, "invoke", "read", key="k"),
        Event(3, 3, 0, "invoke", "write", key="k", value="b"),
        Event(4, 4, 0, "ok", "write", key="k", value="b", version=(2, "n1")),
        Event(5, 5, 1, "ok", "read", key="k", value="a", version=(1, "n1")),
        Event(6, 6, 1, "invoke", "read", key="k"),
        Event(7, 7, 1, "ok", "read", key="k", value="a", version=(1, "n1")),
    ]
    tally = feed(RunTally(), events[:6])
    assert tally.stale_reads == 0, "b was acknowledged after the read began"
    assert feed(tally, events[6:]).stale_reads == 1, "this read began after b's ack"


def test_active_faults_follow_the_nemesis() -> None:
    start = Event(0, 0, NEMESIS, "info", "start-partition",
                  value={"kind": "partition-halves", "nodes": ["n1", "n2"]})
    tally = feed(RunTally(), [start])
    assert tally.active_faults == {"partition": "partition-halves(n1,n2)"}
    feed(tally, [Event(1, 5, NEMESIS, "info", "stop-partition", value={})])
    assert tally.active_faults == {}


def test_off_a_terminal_phases_and_progress_are_plain_lines() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=60)
    with LiveProgress(console, 30, "t") as live:
        assert not live.live
        live.phase("running workload for 30s")
        for event in stored("stale-read.jsonl").events:
            live.observe(event)
        line = live.line()
    text = out.getvalue()
    assert "· running workload for 30s\n" in text
    assert "\x1b[" not in text, "no terminal control codes in a log"
    assert "10 ops" in line and "ok 8 fail 1 info 1" in line
    assert "faults: none" in line and "stale reads so far: 1" in line


def test_matrix_runs_print_no_lines_off_a_terminal() -> None:
    out = io.StringIO()
    with LiveProgress(Console(file=out, force_terminal=False), 30, "t", lines=False) as live:
        live.phase("starting")
        for event in stored("stale-read.jsonl").events:
            live.observe(event)
    assert out.getvalue() == ""
