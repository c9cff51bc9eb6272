"""One test run, phase by phase.

setup -> wait until healthy -> workload and nemesis until the time limit ->
heal everything -> quiesce -> final reads -> teardown -> checkers -> results.
Teardown runs whatever happens (errors, Ctrl-C, SIGTERM); the history is
written as the test runs, so an interrupted run keeps what it recorded, and
its results say it is incomplete. The runner produces the outcome; writing it
out is harness/results.py's job alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from checkers.api import Report, check, default_checkers
from checkers.formats import load_history
from checkers.history import Event, History
from harness.backends.base import Backend, ClusterSpec
from harness.config import RunConfig
from harness.outcome import RunOutcome
from harness.owner import Owner
from harness.recorder import Recorder
from harness.results import write_results
from harness.run_folder import RunFolder
from harness.run_stats import run_stats
from harness.systems import SystemClient, SystemNotReady
from harness.version import quorumlab_version
from harness.workload import WorkloadPlan, key_names, run_workers
from nemesis.driver import drive
from nemesis.schedule import Schedule
from replica.delivery import new_session

log = logging.getLogger("quorumlab")

HEALTH_TIMEOUT = 60.0


class HarnessError(RuntimeError):
    """The harness could not run the test (not a verdict about the system)."""


def cluster_spec(config: RunConfig, folder: RunFolder, run_id: str, backend: str) -> ClusterSpec:
    return ClusterSpec(
        run_id=run_id, run_dir=folder.path, nodes=config.node_ids, n=config.replication,
        r=config.r, w=config.w, bugs=tuple(config.replica_bugs),
        allow_weak_quorum=config.allow_weak_quorum,
        anti_entropy_interval=config.anti_entropy_interval,
        request_timeout=min(0.5, config.op_timeout / 2), replica_cmd=config.replica_cmd,
        replica_image=config.replica_image, mode=config.mode,
    )


class Runner:
    """Runs one test plan in one run folder."""

    def __init__(self, config: RunConfig, folder: RunFolder, backend_name: str,
                 progress: Callable[[str], None] = lambda _: None,
                 make_backend: Callable[[ClusterSpec], Backend] | None = None,
                 on_event: Callable[[Event], None] | None = None,
                 keys: Sequence[str] | None = None) -> None:
        self.config = config
        # A run on a cluster that earlier runs used takes keys of its own (see
        # harness/pytest_plugin.py): their values would be phantoms to this history.
        self.keys = list(keys) if keys is not None else key_names(config.keys)
        self.system = config.make_system()
        self.make_backend = make_backend or (
            lambda spec: self.system.create_backend(backend_name, spec))
        self.folder = folder
        self.backend_name = backend_name
        self.progress = progress
        self.on_event = on_event
        self.outcome = RunOutcome(folder=folder, run_id=f"ql-{uuid.uuid4().hex[:10]}")
        self.interrupted = False
        self._phases: asyncio.Task[None] | None = None

    def interrupt(self) -> None:
        """Ctrl-C / SIGTERM: stop the test phases; teardown and results still run
        (a signal during them is noted, never allowed to cut them short)."""
        self.interrupted = True
        if self._phases is not None and not self._phases.done():
            self._phases.cancel()

    def _phase(self, name: str, started: float) -> None:
        self.outcome.phases[name] = round(time.monotonic() - started, 3)

    async def run(self) -> RunOutcome:
        """Run the test; never raises except for programming errors in checkers."""
        spec = cluster_spec(self.config, self.folder, self.outcome.run_id, self.backend_name)
        self._write_config()
        recorder = Recorder(self.folder.history, self.on_event)
        backend = self.make_backend(spec)
        try:
            await self._guarded(self._run_phases(backend, recorder))
        finally:
            recorder.close()
            self.progress("teardown")
            await self._teardown(backend)
        return await self._finish()

    async def run_against(self, backend: Backend, client: SystemClient) -> RunOutcome:
        """The test phases on a cluster someone else started and will stop (a
        pytest fixture's): no setup and no teardown, the rest as in :meth:`run`,
        so the cluster is left healed for the next test."""
        self._write_config()
        recorder = Recorder(self.folder.history, self.on_event)
        try:
            await self._guarded(self._test_ready(backend, client, recorder))
        finally:
            recorder.close()
        return await self._finish()

    def _write_config(self) -> None:
        self.folder.write_json("config.json", {"config": self.config.to_dict(),
                                               "backend": self.backend_name,
                                               "run_id": self.outcome.run_id,
                                               "quorumlab_version": quorumlab_version(),
                                               "owner": Owner.current().to_label()})

    async def _guarded(self, phases: Coroutine[Any, Any, None]) -> None:
        """Run the test phases as an interruptible task; how they ended goes into
        the outcome (interrupted, a harness error, a bug), never out as an exception."""
        self._phases = asyncio.create_task(phases)
        if self.interrupted:
            self._phases.cancel()
        try:
            await self._phases
        except asyncio.CancelledError:
            self.outcome.incomplete = True
            self.outcome.error = "interrupted"
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                task.uncancel()  # handled here: teardown and results must still run
        except HarnessError as exc:
            self.outcome.incomplete = True
            self.outcome.error = str(exc)
        except Exception as exc:  # a harness bug: keep the history, say it in one line
            log.exception("run failed")
            self.outcome.incomplete = True
            self.outcome.error = f"harness failed: {type(exc).__name__}: {exc}"

    async def _finish(self) -> RunOutcome:
        """Check the recorded history and write the results."""
        self.progress("checking" if not self.outcome.incomplete else "writing results")
        events = await asyncio.to_thread(self._check)
        await asyncio.to_thread(write_results, self.config, self.outcome, events)
        return self.outcome

    def _check(self) -> list[Event]:
        """Check a complete run's history (register model) into the outcome; the
        recorded events, for the plots. An incomplete run is not checked: its
        history stays for `quorumlab check`."""
        if self.outcome.incomplete and self.folder.history.stat().st_size == 0:
            return []  # stopped before the first event
        try:
            history = load_history(self.folder.history, "jsonl")
            if not self.outcome.incomplete:
                started = time.monotonic()
                report = check_run_history(history, self.config)
                self.outcome.verdict, self.outcome.report = report.verdict, report
                self._phase("check", started)
            self.outcome.stats = run_stats(history)
        except Exception as exc:  # keep the history and say what broke, in one line
            log.exception("checking failed")
            self.outcome.verdict = None
            self.outcome.error = f"checking failed: {type(exc).__name__}: {exc}"
            return []
        return history.events

    async def _teardown(self, backend: Backend) -> None:
        try:
            await backend.teardown()
        except Exception as exc:  # report; never mask the outcome
            log.error("teardown failed: %s", exc)
            self.outcome.error = self.outcome.error or f"teardown failed: {exc}"

    async def _run_phases(self, backend: Backend, recorder: Recorder) -> None:
        config = self.config
        nodes = list(config.node_ids)
        started = time.monotonic()
        self.progress(f"starting {len(nodes)} nodes ({self.backend_name} backend)")
        try:
            await backend.setup()
        except Exception as exc:
            raise HarnessError(f"cluster setup failed: {exc}") from exc
        async with new_session() as session:
            client = self.system.client(backend, session, config)
            await self._test_ready(backend, client, recorder, started)

    async def _test_ready(self, backend: Backend, client: SystemClient,
                          recorder: Recorder, started: float | None = None) -> None:
        """Wait until the nodes serve (the end of setup), then test; the client's
        statistics are kept whatever happens."""
        started = time.monotonic() if started is None else started
        try:
            await client.ready(HEALTH_TIMEOUT)
            self._phase("setup", started)
            await self._test(backend, client, recorder)
        except SystemNotReady as exc:
            raise HarnessError(str(exc)) from None
        finally:
            self.outcome.system_stats = client.statistics()

    async def _test(self, backend: Backend, client: SystemClient, recorder: Recorder) -> None:
        """Workload and nemesis, heal, final phase: the phases after setup."""
        config = self.config
        started = time.monotonic()
        self.progress(f"running workload for {config.time_limit:g}s")
        await self._run_workload(backend, client, recorder)
        self._phase("workload", started)

        started = time.monotonic()
        self.progress("healing and restarting every node")
        await backend.heal_all()
        await client.ready(HEALTH_TIMEOUT)
        self._phase("heal", started)

        started = time.monotonic()
        self.progress("waiting for replicas to converge")
        await client.final(self.keys, recorder)
        self._phase("final", started)

    async def _run_workload(self, backend: Backend, client: SystemClient,
                            recorder: Recorder) -> None:
        config = self.config
        schedule = Schedule(config.nemesis, list(config.node_ids), config.nemesis_interval,
                            config.seed, config.nemesis_targets) if config.nemesis else None
        recorder.start_clock()
        await drive_workload(workload_plan(config, self.keys), backend, client, recorder,
                             config.time_limit, schedule)


def check_run_history(history: History, config: RunConfig) -> Report:
    """Every checker that applies to a history the harness recorded with ``config``."""
    cas = config.cas_ratio > 0 or any(op.f == "cas" for op in history.ops)
    # The graph checker orders writes only, so a cas's new value would
    # look like a phantom to it: with cas ops, linearizability decides.
    checkers = [name for name in default_checkers(history) if not (cas and name == "graph")]
    claim = config.make_system().claim_checker
    checkers = [claim if name == "linearizability" else name for name in checkers]
    return check(history, checkers=checkers, model="cas-register" if cas else "register",
                 time_limit=max(10.0, config.time_limit))


def workload_plan(config: RunConfig, keys: Sequence[str], first_process: int = 0) -> WorkloadPlan:
    """The workers' plan from a run's options."""
    return WorkloadPlan(keys=keys, concurrency=config.concurrency, read_ratio=config.read_ratio,
                        rate=config.rate, seed=config.seed, cas_ratio=config.cas_ratio,
                        cross_read_ratio=config.cross_read_ratio, first_process=first_process)


async def drive_workload(plan: WorkloadPlan, backend: Backend, client: SystemClient,
                         recorder: Recorder, time_limit: float, schedule: Schedule | None,
                         clock: Callable[[], float] | None = None) -> None:
    """The workers and, with a schedule, the nemesis, for ``time_limit`` seconds
    (less when one of them fails: HarnessError). A run's middle phase, and what
    `quorumlab load` drives against a live cluster; the nemesis heals what it
    started before this returns. ``clock`` is what the schedule's times count
    from (default: the history's clock, which a run starts here)."""
    stop = asyncio.Event()
    tasks = [asyncio.create_task(run_workers(plan, client, client.homes(), recorder, stop))]
    if schedule is not None:
        tasks.append(asyncio.create_task(drive(
            backend, schedule, recorder.record_nemesis, stop, clock or recorder.elapsed)))
    try:
        await _until_time_or_failure(time_limit, tasks)
    finally:
        stop.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException) and not isinstance(
                result, asyncio.CancelledError):
            raise HarnessError(f"workload failed: {result!r}") from result


async def _until_time_or_failure(seconds: float, tasks: list[asyncio.Task[None]]) -> None:
    """Sleep `seconds`, but return early when one of `tasks` fails."""
    timer = asyncio.ensure_future(asyncio.sleep(seconds))
    pending: set[asyncio.Future[None]] = {timer, *tasks}
    try:
        while not timer.done():
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if any(not task.cancelled() and task.exception() for task in done
                   if task is not timer):
                return
    finally:
        timer.cancel()
