"""An exploratory session: what a person does to a live cluster, recorded as a run is.

One history per session (the session folder's history.jsonl), written by one
recorder, so `quorumlab cluster check` checks everything that happened: every
`kv` op, every `load`'s ops, and every fault applied or healed by hand, each
recorded by the nemesis driver's own `apply` exactly as a scheduled fault.

Processes. A load's workers take fresh numbers after each `info` (p plus the
concurrency), so a person's ops, which may run while a load does, live in a
band of their own from MANUAL_PROCESSES up; a load starts above every worker
process used before it, since its values "<process>-<seq>" must never repeat.

Values. Every read must map to at most one write, so a value written once in a
session cannot be written again by hand (the load's values are unique by
construction); `null` is refused, since a read of a never-written key returns it.

The final phase. A run ends with one (heal, converge, read every copy), which is
what the durability checker judges; a session runs it on request (`cluster
check --final`), as often as asked, without stopping the cluster, over every
key the session has used so far.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson

from checkers.formats.jsonl import event_to_dict
from checkers.history import FINAL_READ, QUIESCE, Event
from harness.backends.probe import health_answers
from harness.config import ConfigError, RunConfig
from harness.recorder import Recorder
from harness.runner import HEALTH_TIMEOUT, HarnessError, drive_workload, workload_plan
from harness.session.live import LiveCluster
from harness.systems import SystemNotReady
from harness.workload import key_names
from nemesis.capabilities import ProcessControl
from nemesis.driver import apply
from nemesis.faults import Fault
from nemesis.kinds import KINDS, check_capabilities
from nemesis.schedule import Schedule

MANUAL_PROCESSES = 1_000_000
PROGRESS_EVERY_S = 1.0
LOAD_OPTIONS = ("concurrency", "rate", "read_ratio", "cas_ratio", "cross_read_ratio",
                "time_limit", "nemesis",
                "nemesis_interval", "nemesis_targets", "seed")


class SessionError(ValueError):
    """A request the session refuses; the message is one line for the user."""


class SessionRecorder(Recorder):
    """The recorder, plus what the session needs to know of what it recorded."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.last_worker = -1  # highest load process so far
        self.last_manual = MANUAL_PROCESSES - 1
        self.completions: Counter[tuple[str, str]] = Counter()  # (f, type) -> count
        self.worker_totals: Counter[str] = Counter()  # type -> count, loads' ops only
        self.written: set[bytes] = set()  # every value written, canonically encoded
        self.keys: set[str] = set()  # every key a client op used
        self.quiesce: dict[str, Any] | None = None  # the last final phase's convergence
        self.final_reads: Counter[str] = Counter()  # type -> count of per-node final reads

    def record(self, process: int | str, type_: str, f: str, **fields: Any) -> Event:
        if f == QUIESCE:
            self.quiesce = fields.get("value")
        elif f == FINAL_READ and type_ != "invoke":
            self.final_reads[type_] += 1
        if isinstance(process, int):
            if type_ == "invoke" and fields.get("key") is not None:
                self.keys.add(fields["key"])
            if process < MANUAL_PROCESSES:
                self.last_worker = max(self.last_worker, process)
            if type_ == "invoke" and f in ("write", "cas"):
                value = fields.get("value")
                self.written.add(canonical(value[1] if f == "cas" else value))
            elif type_ != "invoke":
                self.completions[f, type_] += 1
                if process < MANUAL_PROCESSES:
                    self.worker_totals[type_] += 1
        return super().record(process, type_, f, **fields)

    def op_counts(self) -> dict[str, dict[str, int]]:
        """Completed client ops per f and outcome: {"read": {"ok": 3, ...}, ...}."""
        counts: dict[str, dict[str, int]] = {}
        for (f, type_), n in sorted(self.completions.items()):
            counts.setdefault(f, {"ok": 0, "fail": 0, "info": 0})[type_] = n
        return counts


def canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _replaces(new: Fault, old: Fault) -> bool:
    """A partition replaces the partition in effect, a delay the delay, a clock
    skew the skew of the same nodes (the backends' own semantics)."""
    if new.grudge is not None and old.grudge is not None:
        return True
    if new.delay is not None and old.delay is not None:
        return True
    return bool(new.offsets and old.offsets and set(new.offsets) & set(old.offsets))


class Session:
    """A live cluster, the faults in effect on it, and the session's history."""

    def __init__(self, cluster: LiveCluster, seed: int) -> None:
        self.cluster = cluster
        self.recorder = SessionRecorder(cluster.folder.history)
        self.rng = random.Random(seed)  # hand faults without targets: replayable from the seed
        self.active: list[Fault] = []
        self.started = time.time()
        self._faults = asyncio.Lock()  # one fault change at a time
        self._load: asyncio.Task[None] | None = None
        self._load_started = 0.0
        self._closed = False
        self._load_nemesis = False
        self._final = False  # a final phase is running

    # faults
    async def fault(self, name: str, words: Sequence[str]) -> dict[str, Any]:
        """Apply fault ``name`` with its words (see FaultKind.by_hand); what was recorded."""
        kind = KINDS.get(name)
        if kind is None:
            raise SessionError(f"unknown fault {name!r}; choose from {', '.join(KINDS)}, or heal")
        if self._nemesis_running():
            raise SessionError("a load's nemesis is running, and its heals would undo this "
                               "fault: wait for the load, or stop it")
        try:
            self._check_capabilities([name])
            fault = kind.by_hand(self.cluster.nodes, words, self.rng)
        except ValueError as exc:
            raise SessionError(str(exc)) from None
        async with self._faults:
            events = []
            for old in [f for f in self.active if _replaces(fault, f)]:
                events += await self._apply(old, "stop")
                self.active.remove(old)
            started = await self._apply(fault, "start")
            events += started
            if "error" not in started[0]["value"]:
                self.active.append(fault)
        return {"fault": fault.describe(), "events": events}

    def _check_capabilities(self, names: Sequence[str]) -> None:
        """ValueError (one line) for a kind this system's backend cannot cause."""
        cluster = self.cluster
        check_capabilities(names, cluster.system.offered_capabilities(cluster.backend_name),
                           f"{cluster.config.system} system on the {cluster.backend_name}")

    async def heal(self, name: str | None = None) -> dict[str, Any]:
        """Stop the faults of kind (or family label) ``name``, or every fault; a full
        heal also runs the backend's heal_all, as the end of a run does."""
        families = {kind.label for kind in KINDS.values()}
        if name is not None and name not in KINDS and name not in families:
            raise SessionError(f"unknown fault {name!r}; heal one of {', '.join(KINDS)} "
                               f"or a family ({', '.join(sorted(families))}), or everything")
        async with self._faults:
            return await self._heal(name)

    async def _heal(self, name: str | None) -> dict[str, Any]:
        """:meth:`heal`, with the fault lock held."""
        chosen = [f for f in self.active
                  if name is None or name in (f.kind, KINDS[f.kind].label)]
        events = []
        for fault in reversed(chosen):
            events += await self._apply(fault, "stop")
            self.active.remove(fault)
        if name is None:
            await self.cluster.backend.heal_all()
        warning = await self._wait_serving()
        return {"healed": [f.describe() for f in chosen], "events": events, "warning": warning}

    async def final(self) -> dict[str, Any]:
        """A run's final phase on the live cluster, recorded: heal every fault, wait
        until every node serves, let the replicas converge, then read every key the
        session used on each of its replicas and by quorum. The cluster stays up."""
        if self._load is not None and not self._load.done():
            raise SessionError("a load is running, and its ops would race the final reads: "
                               "wait for it, or stop it (Ctrl-C in its terminal)")
        if not self.recorder.keys:
            raise SessionError("the session has no ops yet "
                               "(`quorumlab kv put` or `quorumlab load` first)")
        keys = sorted(self.recorder.keys)
        before = self.recorder.final_reads.copy()
        async with self._faults:
            self._final = True
            try:
                healed = await self._heal(None)
                await self.cluster.client.final(keys, self.recorder)
            finally:
                self._final = False
        done = self.recorder.final_reads - before
        return {"healed": healed["healed"], "warning": healed["warning"], "keys": len(keys),
                "copies": done["ok"], "unanswered": done["fail"],
                "quiesce": self.recorder.quiesce}

    async def _wait_serving(self) -> str | None:
        """After a heal with no node still down or frozen: wait until all serve."""
        if any(KINDS[f.kind].capability is ProcessControl for f in self.active):
            return None
        try:
            await self.cluster.client.ready(HEALTH_TIMEOUT)
        except SystemNotReady as exc:
            return str(exc)
        return None

    async def _apply(self, fault: Fault, action: str) -> list[dict[str, Any]]:
        recorded: list[Event] = []

        def record(f: str, value: dict[str, Any]) -> None:
            recorded.append(self.recorder.record_nemesis(f, value))

        await apply(self.cluster.backend, fault, "start" if action == "start" else "stop",
                    record)
        return [event_to_dict(event) for event in recorded]

    # ops
    async def op(self, f: str, key: str, value: Any = None,
                 node: str | None = None) -> dict[str, Any]:
        """One read or write at ``node`` (default: the first), recorded; its completion."""
        node = node or self.cluster.nodes[0]
        try:
            address = self.cluster.home(node)
        except ValueError as exc:
            raise SessionError(str(exc)) from None
        if not key:
            raise SessionError("a key must not be empty")
        client = self.cluster.client
        if f == "write":
            if value is None:
                raise SessionError("null is what a read of a never-written key returns; "
                                   "write another value")
            if canonical(value) in self.recorder.written:
                raise SessionError(f"{orjson.dumps(value).decode()} was written before in this "
                                   "session; write each value once, so that every read names "
                                   "its write")
        elif f != "read":
            raise SessionError(f"unknown op {f!r}; read or write")
        self.recorder.last_manual += 1
        process = self.recorder.last_manual
        self.recorder.record(process, "invoke", f, key=key, value=value, node=node)
        outcome = await (client.read(address, key) if f == "read"
                         else client.write(address, key, value))
        done = self.recorder.record(process, outcome.type, f, key=key,
                                    value=outcome.value if f == "read" else value,
                                    version=outcome.version, error=outcome.error, node=node)
        return event_to_dict(done)

    # load
    async def load(self, options: dict[str, Any],
                   progress: Callable[[dict[str, Any]], Awaitable[None]]) -> dict[str, Any]:
        """The run's workload (and, if asked, its nemesis) against the live cluster,
        calling ``progress`` about every second; what it did."""
        if self._load is not None and not self._load.done():
            raise SessionError("a load is already running on this cluster")
        if self._final:
            raise SessionError("a final phase (`cluster check --final`) is running: "
                               "load once it is done")
        unknown = sorted(set(options) - set(LOAD_OPTIONS))
        if unknown:
            raise SessionError(f"unknown load option(s): {', '.join(unknown)}")
        base = self.cluster.config
        try:
            config = RunConfig.from_dict({**base.to_dict(), **options})
        except ConfigError as exc:
            raise SessionError(str(exc)) from None
        schedule = None
        if config.nemesis:
            if self.active:
                raise SessionError("faults applied by hand are in effect, and the nemesis's "
                                   "heals would undo them: `quorumlab fault heal` first, or "
                                   "load with --nemesis none")
            try:
                self._check_capabilities(config.nemesis)
            except ValueError as exc:
                raise SessionError(str(exc)) from None
            schedule = Schedule(config.nemesis, list(config.node_ids), config.nemesis_interval,
                                config.seed, config.nemesis_targets)
        plan = workload_plan(config, key_names(config.keys), self.recorder.last_worker + 1)
        before = self.recorder.worker_totals.copy()
        self._load_started = time.monotonic()

        async def counts() -> dict[str, Any]:
            now = self.recorder.worker_totals
            return {"elapsed": round(time.monotonic() - self._load_started, 1),
                    "time_limit": config.time_limit,
                    **{t: now[t] - before[t] for t in ("ok", "fail", "info")}}

        async def tick() -> None:
            while True:
                await asyncio.sleep(PROGRESS_EVERY_S)
                await progress(await counts())

        # The schedule's times count from the load's start, the history's clock
        # from the session's.
        offset = self.recorder.elapsed()
        self._load_nemesis = schedule is not None
        self._load = asyncio.create_task(drive_workload(
            plan, self.cluster.backend, self.cluster.client, self.recorder, config.time_limit,
            schedule, clock=lambda: self.recorder.elapsed() - offset))
        ticker = asyncio.create_task(tick())
        error = None
        try:
            await self._load
        except HarnessError as exc:
            error = str(exc)
        except asyncio.CancelledError:
            error = "stopped"
        finally:
            ticker.cancel()
        return {**await counts(), "error": error}

    def _nemesis_running(self) -> bool:
        return self._load is not None and not self._load.done() and self._load_nemesis

    async def stop_load(self) -> bool:
        """Stop a running load (its workers finish their op; its nemesis heals)."""
        if self._load is None or self._load.done():
            return False
        self._load.cancel()
        with contextlib.suppress(asyncio.CancelledError, HarnessError):
            await self._load
        return True

    # status
    async def status(self) -> dict[str, Any]:
        """Each node's state, the faults in effect, the session's op counts."""
        killed = {n for f in self.active if f.kind == "kill" for n in f.targets}
        paused = {n for f in self.active if f.kind == "pause" for n in f.targets}
        addresses = self.cluster.addresses()
        answers = await asyncio.gather(*(
            health_answers(urlsplit(url).hostname or "127.0.0.1", urlsplit(url).port or 80)
            for url in addresses.values()))
        nodes = []
        for (node, url), answered in zip(addresses.items(), answers, strict=True):
            state = ("killed" if node in killed else "paused" if node in paused
                     else "up" if answered else "not answering")
            nodes.append({"node": node, "url": url, "state": state})
        loading = self._load is not None and not self._load.done()
        return {"nodes": nodes, "faults": [f.describe() for f in self.active],
                "ops": self.recorder.op_counts(), "events": self.recorder.count,
                "load": round(time.monotonic() - self._load_started, 1) if loading else None,
                "uptime": round(time.time() - self.started, 1)}

    async def close(self) -> None:
        """Stop any load, close the history, tear the cluster down. Safe twice."""
        if self._closed:
            return
        self._closed = True
        await self.stop_load()
        self.recorder.close()
        await self.cluster.stop()
