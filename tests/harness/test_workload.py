"""The register workload: unique values, process ids after info, rate, recording."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path
from typing import Any

import orjson

from harness.client import Outcome
from harness.recorder import Recorder
from harness.workload import RateLimiter, WorkloadPlan, key_names, run_workers


class ScriptedClient:
    """Every third write is indeterminate; reads return the last written value;
    a cas applies when its old value is the last written one."""

    def __init__(self) -> None:
        self.writes = 0
        self.last: dict[str, Any] = {}

    async def read(self, base_url: str, key: str) -> Outcome:
        await asyncio.sleep(0)
        return Outcome("ok", value=self.last.get(key))

    async def write(self, base_url: str, key: str, value: Any) -> Outcome:
        await asyncio.sleep(0)
        self.writes += 1
        if self.writes % 3 == 0:
            return Outcome("info", error="timeout")
        self.last[key] = value
        return Outcome("ok", version=[self.writes, "t"])

    async def cas(self, base_url: str, key: str, old: Any, new: Any) -> Outcome:
        await asyncio.sleep(0)
        if self.last.get(key) != old:
            return Outcome("fail", error="precondition failed")
        self.last[key] = new
        return Outcome("ok")


def run(tmp_path: Path, seconds: float, rate: float = 0, concurrency: int = 4,
        cas_ratio: float = 0.0, cross_read_ratio: float = 0.0,
        homes: list[tuple[str, str]] | None = None) -> list[dict]:
    async def go() -> None:
        recorder = Recorder(tmp_path / "history.jsonl")
        plan = WorkloadPlan(keys=key_names(3), concurrency=concurrency, read_ratio=0.5,
                            rate=rate, seed=7, cas_ratio=cas_ratio,
                            cross_read_ratio=cross_read_ratio)
        stop = asyncio.Event()
        asyncio.get_running_loop().call_later(seconds, stop.set)
        await run_workers(plan, ScriptedClient(), homes or [("n1", "u1"), ("n2", "u2")],
                          recorder, stop)
        recorder.close()

    asyncio.run(go())
    return [orjson.loads(line) for line in (tmp_path / "history.jsonl").read_bytes().splitlines()]


def test_every_invoke_completes_and_values_are_unique(tmp_path: Path) -> None:
    events = run(tmp_path, 0.2)
    assert [e["index"] for e in events] == list(range(len(events)))
    invokes = [e for e in events if e["type"] == "invoke"]
    assert len(invokes) * 2 == len(events)
    written = [e["value"] for e in invokes if e["f"] == "write"]
    assert written and len(written) == len(set(written))
    times = [e["time"] for e in events]
    assert times == sorted(times)


def test_process_changes_after_info_and_never_has_two_ops_open(tmp_path: Path) -> None:
    events = run(tmp_path, 0.2, concurrency=4)
    open_ops: set[int] = set()
    retired: set[int] = set()
    for event in events:
        process = event["process"]
        assert process not in retired
        if event["type"] == "invoke":
            assert process not in open_ops
            open_ops.add(process)
        else:
            open_ops.remove(process)
            if event["type"] == "info":
                retired.add(process)
    assert any(p >= 4 for p in retired | open_ops)


def test_home_node_is_process_slot_mod_nodes(tmp_path: Path) -> None:
    events = run(tmp_path, 0.1, concurrency=4)
    for event in events:
        assert event["node"] == ("n1" if event["process"] % 4 % 2 == 0 else "n2")


def test_rate_limits_total_ops(tmp_path: Path) -> None:
    events = run(tmp_path, 0.5, rate=40, concurrency=8)
    invokes = sum(1 for e in events if e["type"] == "invoke")
    assert 10 <= invokes <= 30


def test_rate_limiter_unbounded_does_not_wait() -> None:
    async def go() -> float:
        limiter = RateLimiter(0)
        loop = asyncio.get_running_loop()
        start = loop.time()
        for _ in range(1000):
            await limiter.wait()
        return loop.time() - start

    assert asyncio.run(go()) < 0.5


def test_cas_is_recorded_as_old_new_with_old_a_value_the_worker_saw(tmp_path: Path) -> None:
    events = run(tmp_path, 0.2, cas_ratio=0.3)
    cases = [e for e in events if e["f"] == "cas"]
    assert {e["type"] for e in cases} >= {"invoke", "ok", "fail"}
    seen: dict[tuple[int, str], set] = {}  # what each worker read or wrote, per key
    for event in events:
        slot_key = (event["process"] % 4, event["key"])
        if event["f"] == "cas" and event["type"] == "invoke":
            old, new = event["value"]
            assert old in seen.get(slot_key, set()), event
            assert new.startswith(f"{event['process']}-")
        if event["type"] == "ok":
            written = event["value"][1] if event["f"] == "cas" else event.get("value")
            seen.setdefault(slot_key, set()).add(written)
    invokes = [e for e in events if e["type"] == "invoke"]
    written = [e["value"] if e["f"] == "write" else e["value"][1] for e in invokes
               if e["f"] != "read"]
    assert len(written) == len(set(written))  # cas values are as unique as writes


def test_no_cas_without_a_cas_ratio(tmp_path: Path) -> None:
    assert not any(e["f"] == "cas" for e in run(tmp_path, 0.1))


def test_an_ok_op_is_followed_by_a_read_of_its_key_through_another_node(tmp_path: Path) -> None:
    homes = [("n1", "u1"), ("n2", "u2"), ("n3", "u3")]
    events = run(tmp_path, 0.2, concurrency=3, cross_read_ratio=1.0, homes=homes)
    ops_by_slot: dict[int, list[dict]] = {}
    invoked: dict[int, dict] = {}
    for event in events:  # an op is its invoke, with the type its completion had
        if event["type"] == "invoke":
            invoked[event["process"]] = event
            ops_by_slot.setdefault(event["process"] % 3, []).append(event)
        else:
            invoked.pop(event["process"])["outcome"] = event["type"]
    crossed = 0
    for slot, ops in ops_by_slot.items():
        home = homes[slot][0]
        assert ops[0]["node"] == home
        for before, after in itertools.pairwise(ops):
            if before["outcome"] == "ok":
                assert (after["f"], after["key"]) == ("read", before["key"])
                assert after["node"] != home
                crossed += 1
            else:
                assert after["node"] == home
    assert crossed > 10


def test_without_cross_reads_every_op_is_at_the_workers_home(tmp_path: Path) -> None:
    events = run(tmp_path, 0.1, concurrency=3, homes=[("n1", "u1"), ("n2", "u2"), ("n3", "u3")])
    assert all(e["node"] == f"n{e['process'] % 3 + 1}" for e in events)
