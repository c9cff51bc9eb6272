"""The runner's phases against an in-process stand-in cluster (no processes)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from checkers.history import FINAL, FINAL_READ, NEMESIS, QUIESCE
from harness.config import RunConfig
from harness.owner import Owner
from harness.run_folder import create_run_folder
from harness.runner import Runner
from harness.version import quorumlab_version
from tests.harness.memory_cluster import MemoryBackend


def make_runner(tmp_path: Path, holder: list, seen: list | None = None, **changes) -> Runner:
    config = RunConfig(time_limit=0.5, nodes=3, r=2, w=2, concurrency=4, keys=3,
                       nemesis=["kill", "partition-halves"], nemesis_interval=0.1,
                       quiesce_timeout=2, seed=3, **changes)
    config.validate()
    folder = create_run_folder(tmp_path, config.name)
    seen = [] if seen is None else seen

    def make(spec):
        holder.append(MemoryBackend(spec))
        return holder[0]

    return Runner(config, folder, "memory", make_backend=make, on_event=seen.append)


def events(runner: Runner) -> list[dict]:
    return [orjson.loads(line) for line in runner.folder.history.read_bytes().splitlines()]


async def test_complete_run_records_workload_nemesis_and_final_phase(tmp_path: Path) -> None:
    holder: list[MemoryBackend] = []
    runner = make_runner(tmp_path, holder)
    outcome = await runner.run()
    assert outcome.error is None and not outcome.incomplete
    backend = holder[0]
    assert backend.torn_down == 1
    assert any(call.startswith("kill") for call in backend.calls)
    assert "heal" in backend.calls
    history = events(runner)
    fs = {(e["process"] if isinstance(e["process"], str) else "client", e["f"]) for e in history}
    assert ("client", "write") in fs and ("client", "read") in fs
    assert (NEMESIS, "kill") in fs or (NEMESIS, "start-partition") in fs
    assert (FINAL, QUIESCE) in fs and (FINAL, FINAL_READ) in fs and (FINAL, "read") in fs
    final_reads = [e for e in history if e["f"] == FINAL_READ and e["type"] == "ok"]
    assert len(final_reads) == 3 * 3  # every key on every node
    results = orjson.loads((runner.folder.path / "results.json").read_bytes())
    assert results["incomplete"] is False
    assert outcome.verdict is True and results["valid"] is True
    assert (runner.folder.path / "report.html").exists()
    assert set(results["phases"]) >= {"setup", "workload", "heal", "final"}
    config = orjson.loads((runner.folder.path / "config.json").read_bytes())
    assert config["config"]["seed"] == 3
    assert config["quorumlab_version"] == results["quorumlab_version"] == quorumlab_version()
    assert Owner.from_label(config["owner"]) == Owner.current(), "the run's owner: this process"
    availability = results["statistics"]["availability"]
    assert availability["overall"]["ops"] == sum(
        1 for e in history if isinstance(e["process"], int) and e["type"] == "invoke")


async def test_every_recorded_event_is_shown_to_the_live_progress(tmp_path: Path) -> None:
    seen: list = []
    runner = make_runner(tmp_path, [], seen)
    await runner.run()
    assert [event.index for event in seen] == [e["index"] for e in events(runner)]


@pytest.mark.parametrize("stop", ["cancel the task", "interrupt (what SIGINT does)"])
async def test_stopped_run_tears_down_keeps_history_and_marks_incomplete(
        tmp_path: Path, stop: str) -> None:
    holder: list[MemoryBackend] = []
    runner = make_runner(tmp_path, holder)
    runner.config.time_limit = 30
    task = asyncio.create_task(runner.run())
    await asyncio.sleep(0.5)
    if stop.startswith("cancel"):
        task.cancel()
    else:
        runner.interrupt()
    # either way the runner ends in order: teardown, then an incomplete result
    outcome = await asyncio.wait_for(task, 10)
    assert outcome.incomplete and outcome.exit_code == 130
    assert holder[0].torn_down == 1
    results = orjson.loads((runner.folder.path / "results.json").read_bytes())
    assert results["incomplete"] is True and results["error"] == "interrupted"
    assert len(events(runner)) > 10


async def test_final_phase_reads_only_each_keys_replicas(tmp_path: Path) -> None:
    holder: list[MemoryBackend] = []
    config = RunConfig(time_limit=0.3, nodes=4, n=3, r=2, w=2, concurrency=2, keys=5,
                       quiesce_timeout=2, seed=3)
    config.validate()
    runner = Runner(config, create_run_folder(tmp_path, config.name), "memory",
                    make_backend=lambda spec: holder.append(MemoryBackend(spec)) or holder[0])
    outcome = await runner.run()
    assert outcome.error is None
    final = [e for e in events(runner) if e["f"] == FINAL_READ and e["type"] == "ok"]
    per_key: dict[str, set[str]] = {}
    for event in final:
        per_key.setdefault(event["key"], set()).add(event["node"])
    assert len(per_key) == 5
    assert all(len(nodes) == 3 for nodes in per_key.values())
    assert len({frozenset(nodes) for nodes in per_key.values()}) > 1  # placement differs by key


def test_run_folder_is_absolute_from_a_relative_store(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    folder = create_run_folder(Path("histories"), "t")
    assert folder.path.is_absolute()
    assert folder.path.parent == tmp_path / "histories" / "t"
    assert (tmp_path / "histories" / "t" / "latest").resolve() == folder.path


async def test_interrupt_during_teardown_does_not_cut_it_short(tmp_path: Path) -> None:
    finished: list[bool] = []

    class SignalledInTeardown(MemoryBackend):
        async def teardown(self) -> None:
            runner.interrupt()  # Ctrl-C arrives while we clean up
            await asyncio.sleep(0.1)
            await super().teardown()
            finished.append(True)

    config = RunConfig(time_limit=0.3, nodes=3, r=2, w=2, concurrency=2, keys=2,
                       quiesce_timeout=2, seed=1)
    runner = Runner(config, create_run_folder(tmp_path, config.name), "memory",
                    make_backend=SignalledInTeardown)
    outcome = await runner.run()
    assert finished == [True]
    assert not outcome.incomplete and outcome.error is None
    assert (runner.folder.path / "results.json").exists()


async def test_a_failing_worker_ends_the_run_at_once(tmp_path: Path, monkeypatch) -> None:
    from harness import workload

    original = workload._worker

    async def worker_with_a_bug(slot, *args, **kwargs):
        if slot == 0:
            raise RuntimeError("worker bug")
        await original(slot, *args, **kwargs)

    monkeypatch.setattr(workload, "_worker", worker_with_a_bug)
    holder: list[MemoryBackend] = []
    runner = make_runner(tmp_path, holder)
    runner.config.time_limit = 30
    started = asyncio.get_running_loop().time()
    outcome = await asyncio.wait_for(runner.run(), 20)
    assert asyncio.get_running_loop().time() - started < 10
    assert outcome.incomplete and "workload failed" in outcome.error
    assert holder[0].torn_down == 1
