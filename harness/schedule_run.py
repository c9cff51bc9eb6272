"""`quorumlab run --schedule FILE`: a simulated schedule against a real cluster.

The schedule (``schedule.json`` from ``quorumlab sim``) names the cluster, each
client's ops with their think times, and the faults with their times; this
drives a local-backend cluster of the reference replica through them, in
order and as closely as real time allows (an op takes what it takes, so later
ops start later than in the simulation), then heals, runs the final phase and
checks the history as any run does. It then says whether the anomaly
reproduced: the real history is invalid too, and (when the simulation's
results.json lies beside the schedule) which of its anomaly kinds came back.

What a real network cannot be told is left out and said so: the first
messages' exact delays, the per-link models and link faults (the real backend
delays every link alike), the nodes' natural clock drift, slow disks.
"""

from __future__ import annotations

import asyncio
import random
import sys
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console

from checkers.exits import EXIT_BAD_INPUT, worst
from checkers.history import NEMESIS
from harness.backends.base import Backend
from harness.config import ConfigError, RunConfig
from harness.outcome import RunOutcome
from harness.recorder import Recorder
from harness.run_command import run_logged
from harness.run_folder import create_run_folder
from harness.runner import Runner
from harness.summary import print_summary
from harness.systems import SystemClient
from harness.workload import FAIL_BACKOFF
from nemesis.driver import apply
from nemesis.kinds import KINDS
from sim.schedule import LINK_FAULT, ClientOp, FaultEvent, Schedule, ScheduleError

SLACK_S = 5.0  # the workload's time limit beyond the schedule's own span


def schedule_config(schedule: Schedule, name: str, store_dir: str) -> RunConfig:
    """The run options that the schedule decides."""
    span_s = max([f.at_ms + f.duration_ms for f in schedule.faults] +
                 [sum(op.gap_ms for op in ops) for ops in schedule.clients] + [0.0]) / 1000
    config = RunConfig(
        name=name, backend="local", nodes=schedule.nodes, n=schedule.n,
        r=schedule.read_quorum, w=schedule.write_quorum, mode=schedule.mode,
        concurrency=len(schedule.clients), keys=schedule.keys, seed=schedule.seed,
        op_timeout=schedule.op_timeout_ms / 1000, replica_bugs=list(schedule.bugs),
        nemesis=sorted({f.kind for f in schedule.faults if f.kind != LINK_FAULT}),
        anti_entropy_interval=schedule.anti_entropy_ms / 1000,
        time_limit=span_s + SLACK_S + schedule.op_count * schedule.op_timeout_ms / 1000,
        store_dir=store_dir, allow_weak_quorum=True)
    config.validate()
    return config


def left_out(schedule: Schedule) -> list[str]:
    """What of the schedule the real cluster cannot be made to do."""
    notes = []
    if schedule.delays_ms:
        notes.append(f"the first {len(schedule.delays_ms)} messages' exact delays")
    if any(f.kind == LINK_FAULT for f in schedule.faults):
        notes.append("link faults (per-link delay, loss, duplication, reordering)")
    if any(schedule.clock_offsets_ms):
        notes.append("the nodes' natural clock drift")
    if schedule.disks_ms:
        notes.append("the nodes' disk speeds (slow disks)")
    return notes


class ScheduleRunner(Runner):
    """A run whose workload and faults come from a schedule, not from a seed."""

    def __init__(self, schedule: Schedule, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schedule = schedule

    async def _run_workload(self, backend: Backend, client: SystemClient,
                            recorder: Recorder) -> None:
        recorder.start_clock()
        homes = client.homes()
        stop = asyncio.Event()
        concurrency = len(self.schedule.clients)
        tasks = [asyncio.create_task(self._client(slot, ops, client, homes[slot % len(homes)],
                                                  recorder, concurrency))
                 for slot, ops in enumerate(self.schedule.clients)]
        tasks += [asyncio.create_task(self._fault(fault, backend, recorder, stop))
                  for fault in self.schedule.faults if fault.kind != LINK_FAULT]
        try:  # a client stuck past the limit is cut off: the final phase still runs
            await asyncio.wait_for(asyncio.gather(*tasks), self.config.time_limit)
        except TimeoutError:
            pass
        finally:
            stop.set()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    @staticmethod
    async def _client(slot: int, ops: tuple[ClientOp, ...], client: SystemClient,
                      home: tuple[str, str], recorder: Recorder, concurrency: int) -> None:
        """One client's ops in order, recorded as the simulator's clients record them."""
        node, url = home
        process, seq = slot, 0
        rng = random.Random(slot)
        for op in ops:
            await asyncio.sleep(op.gap_ms / 1000)
            key = f"k{op.key}"
            if op.f == "read":
                recorder.record(process, "invoke", "read", key=key, node=node)
                outcome = await client.read(url, key)
                value = outcome.value
            else:
                seq += 1
                value = f"{process}-{seq}"
                recorder.record(process, "invoke", "write", key=key, value=value, node=node)
                outcome = await client.write(url, key, value)
            recorder.record(process, outcome.type, op.f, key=key, value=value,
                            version=outcome.version, error=outcome.error, node=node)
            if outcome.type == "info":
                process, seq = process + concurrency, 0
            elif outcome.type == "fail":
                await asyncio.sleep(FAIL_BACKOFF * rng.uniform(0.5, 1.5))

    async def _fault(self, event: FaultEvent, backend: Backend, recorder: Recorder,
                     stop: asyncio.Event) -> None:
        """Start the fault at its time and stop it after its duration (also when cut short)."""
        fault = KINDS[event.kind].decide(list(self.config.node_ids), random.Random(event.seed),
                                         event.targets)

        def record(f: str, value: dict[str, Any]) -> None:
            recorder.record(NEMESIS, "info", f, value=value)

        await asyncio.sleep(max(0.0, event.at_ms / 1000 - recorder.elapsed()))
        if stop.is_set():
            return
        await apply(backend, fault, "start", record)
        try:
            await asyncio.sleep(event.duration_ms / 1000)
        finally:
            await apply(backend, fault, "stop", record)


def expected_kinds(path: Path) -> set[str] | None:
    """The anomaly kinds of the simulation the schedule came from, if its
    results.json lies beside it."""
    results = path.parent / "results.json"
    try:
        checkers = orjson.loads(results.read_bytes())["checkers"]["results"]
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError):
        return None
    return {a["kind"] for r in checkers for a in r["anomalies"]}


def run_schedule(path: Path, name: str, store_dir: str, console: Console) -> int:
    """Run the schedule at ``path`` on the local backend; the exit code as `quorumlab run`."""
    try:
        schedule = Schedule.load(path / "schedule.json" if path.is_dir() else path)
        config = schedule_config(schedule, name, store_dir)
    except (ScheduleError, ConfigError, ValueError) as exc:
        sys.stderr.write(f"quorumlab run: error: --schedule: {exc}\n")
        return EXIT_BAD_INPUT
    for note in left_out(schedule):
        sys.stderr.write(f"quorumlab run: warning: not reproducible on a real cluster, "
                         f"left out: {note}\n")
    folder = create_run_folder(Path(config.store_dir), config.name)
    (folder.path / "schedule.json").write_bytes(orjson.dumps(schedule.to_json(),
                                                             option=orjson.OPT_INDENT_2))
    runner = ScheduleRunner(schedule, config, folder, "local",
                            progress=lambda msg: console.print(f"[dim]·[/dim] {msg}"))
    outcome = run_logged(runner, folder.path)
    print_summary(console, outcome, config)
    report_reproduction(outcome, expected_kinds(path if path.is_file()
                                                else path / "schedule.json"))
    return worst([outcome.exit_code])


def report_reproduction(outcome: RunOutcome, expected: set[str] | None) -> None:
    """One line: did the real cluster show the anomaly the simulation found?"""
    if outcome.report is None:
        print("reproduced: unknown (the run gave no verdict)")
        return
    found = {a.kind for r in outcome.report.results for a in r.anomalies}
    if outcome.verdict is not False:
        print("reproduced: no (the real history is "
              f"{'valid' if outcome.verdict is True else 'undecided'})")
    elif expected is None:
        print(f"reproduced: yes, invalid ({', '.join(sorted(found))})")
    else:
        same = sorted(found & expected)
        print(f"reproduced: {'yes' if same else 'partly'}: real anomalies "
              f"{', '.join(sorted(found))}; simulated {', '.join(sorted(expected))}"
              + (f"; in both: {', '.join(same)}" if same else ""))
