"""One simulated run of a schedule: workload and faults, heal, final phase.

The phases are the harness's (harness/runner.py): the clients run their ops
while the faults come and go; once both are over, everything is healed
(crashed nodes restarted, paused ones resumed, partitions and delays gone,
clocks reset), anti-entropy runs until the replicas agree or the quiesce limit
passes, each replica's copy of every key is read, then a quorum read of every
key. The history has the same events as a real run's ``history.jsonl``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from checkers.history import FINAL, FINAL_READ, NEMESIS, QUIESCE, Event, History
from harness.final_phase import POLL_INTERVAL, converged, replica_pairs
from nemesis.faults import Fault
from nemesis.kinds import KINDS
from replica.protocol import Get, NoReply, Put, ReadResult
from sim.actors import Agent, Node, OpRun, Process
from sim.clients import Worker
from sim.loop import Loop
from sim.network import Network, Sent
from sim.recorder import SimRecorder
from sim.schedule import LINK_FAULT, FaultEvent, Schedule

EPOCH = 1_767_225_600.0  # the nodes' wall clocks start at 2026-01-01 UTC
CLIENT_LINK_S = 0.0001  # client <-> node over loopback: not faulted
QUIESCE_LIMIT_S = 30.0


@dataclass
class SimResult:
    """What one run produced: the history, its message trace (when asked), counts."""

    schedule: Schedule
    events: list[Event]
    history: History
    trace: list[Sent] | None
    faults: list[tuple[float, float, FaultEvent, Fault | None]]
    stats: dict[str, Any] = field(default_factory=dict)


class Simulation:
    """The cluster, network, clients and faults of one schedule."""

    def __init__(self, schedule: Schedule, trace: bool = False) -> None:
        self.schedule = schedule
        self.loop = Loop()
        self.net = Network(schedule, trace)
        self.recorder = SimRecorder(self.loop)
        self.node_ids = list(schedule.node_ids)
        self.request_timeout = schedule.request_timeout_ms / 1000.0
        self.op_timeout = schedule.op_timeout_ms / 1000.0
        self.anti_entropy = schedule.anti_entropy_ms / 1000.0
        self.nodes = {node: Node(self, node, i) for i, node in enumerate(self.node_ids)}
        self.agents = ({node: Agent(self, node) for node in self.node_ids}
                       if schedule.mode == "client" else {})
        self.workers: list[Worker] = []
        self.workers = [Worker(self, slot, ops) for slot, ops in enumerate(schedule.clients)]
        self.unfinished = sum(not worker.finished for worker in self.workers)
        self.applied: list[tuple[float, float, FaultEvent, Fault | None]] = []

    # time and messages
    def host_micros(self, offset: float = 0.0) -> int:
        return int((EPOCH + self.loop.now + offset) * 1_000_000)

    def send(self, src: str, dst: Process, what: Any, fn: Any, *args: Any) -> None:
        """One message; ``fn(*args)`` runs at ``dst`` on each arrival."""
        loop = self.loop
        for delay in self.net.transit(loop.now, src, dst.position, what):
            loop.after(delay, dst.arrive, fn, args)

    def request(self, sender: Process, run: OpRun, node: str, phase: int,
                msg: Get | Put) -> None:
        """A protocol request to a replica's internal API."""
        target = self.nodes[node]
        loop = self.loop
        if not target.up:  # a connection to a dead process is refused: never delivered
            loop.after(2 * CLIENT_LINK_S, sender.deliver, run,
                       NoReply(node, phase, False, "connection refused"))
            return
        inc = target.incarnation
        for delay in self.net.transit(loop.now, sender.position, node, msg, run.tag, run.rng):
            loop.after(delay, target.on_request, inc, sender, run, phase, msg)

    def reply(self, src: str, sender: Process, run: OpRun, event: Any) -> None:
        """A replica's answer travels back to the process that asked."""
        loop = self.loop
        for delay in self.net.transit(loop.now, src, sender.position, event, run.tag, run.rng):
            loop.after(delay, sender.deliver, run, event)

    # clients
    def client_request(self, worker: Worker, token: object, f: str, key: str,
                       value: Any) -> None:
        if self.agents:
            agent = self.agents[worker.home]
            coordinator = agent.coordinator
            rng = worker.stream
            op = (coordinator.read_op(key, rng) if f == "read"
                  else coordinator.write_op(key, value, rng))
            agent.start_op(op, worker.tag,
                           lambda outcome: self.client_reply(worker, token, outcome, None), rng)
            return
        node = self.nodes[worker.home]
        if not node.up:
            self.client_reply(worker, token, None, "connection refused")
            return
        self.loop.after(CLIENT_LINK_S, node.on_client, node.incarnation, worker, token, f,
                        key, value)

    def client_reply(self, worker: Worker, token: object, outcome: Any,
                     error: str | None) -> None:
        self.loop.after(CLIENT_LINK_S, worker.complete, token, outcome, error)

    def worker_finished(self) -> None:
        self.unfinished -= 1
        if self.unfinished == 0:
            self.loop.stop()

    # faults
    def schedule_faults(self) -> float:
        """Arm every fault's start and stop; returns when the last one ends."""
        end = 0.0
        for event in self.schedule.faults:
            start, stop = event.at_ms / 1000.0, (event.at_ms + event.duration_ms) / 1000.0
            fault = (KINDS[event.kind].decide(self.node_ids, random.Random(event.seed),
                                              event.targets)
                     if event.kind in KINDS else None)
            self.loop.after(start, self._fault, event, fault, True)
            self.loop.after(stop, self._fault, event, fault, False)
            self.applied.append((start, stop, event, fault))
            end = max(end, stop)
        return end

    def _fault(self, event: FaultEvent, fault: Fault | None, starting: bool) -> None:
        net = self.net
        if fault is None:  # a link fault
            assert event.model is not None
            entry = (frozenset(event.links), event.model)
            if starting:
                net.link_faults.append(entry)
            else:
                net.link_faults.remove(entry)
            self.recorder.record(NEMESIS, "info", "start-link" if starting else "stop-link",
                                 value={"kind": LINK_FAULT,
                                        "links": [list(pair) for pair in event.links],
                                        "model": event.model.__dict__})
            return
        if fault.grudge is not None:
            if starting:
                net.grudges.append(fault.grudge)
            else:
                net.grudges.remove(fault.grudge)
        elif fault.delay is not None:
            if starting:
                net.delays.append(fault.delay)
            else:
                net.delays.remove(fault.delay)
        elif fault.offsets is not None:
            for node, seconds in fault.offsets.items():
                self.nodes[node].skew = seconds if starting else 0.0
        else:
            for node in fault.targets:
                self._process_fault(fault.kind, self.nodes[node], starting)
        kind = KINDS[fault.kind]
        self.recorder.record(NEMESIS, "info", kind.events[0 if starting else 1],
                             value=fault.describe())

    @staticmethod
    def _process_fault(kind: str, node: Node, starting: bool) -> None:
        if kind == "kill":
            if starting:
                node.crash()
            elif not node.up:
                node.boot_up()
        elif starting:
            node.paused = node.up
        elif node.paused:
            node.resume()

    # the run
    def run(self) -> None:
        faults_end = self.schedule_faults()
        for worker in self.workers:
            if not worker.finished:
                worker.next()
        if self.unfinished:
            self.loop.run()
        self.loop.run(until=max(self.loop.now, faults_end))
        self._heal()
        self._final_phase()

    def _heal(self) -> None:
        """Whatever fault is still in effect (overlapping faults) ends now."""
        self.net.grudges.clear()
        self.net.delays.clear()
        self.net.link_faults.clear()
        for node in self.nodes.values():
            node.skew = 0.0
            if not node.up:
                node.boot_up()
            elif node.paused:
                node.resume()

    def _snapshot(self, keys: Sequence[str]) -> dict[tuple[str, str], Any]:
        copies: dict[tuple[str, str], Any] = {}
        for node, key in replica_pairs(dict.fromkeys(self.node_ids), keys,
                                       self.schedule.replication):
            record = self.nodes[node].records.get(key)
            copies[(node, key)] = ((None, None) if record is None else
                                   (orjson.loads(record.value_json), list(record.version)))
        return copies

    def _final_phase(self) -> None:
        loop, recorder = self.loop, self.recorder
        keys = [f"k{i}" for i in range(self.schedule.keys)]
        started = loop.now
        while True:
            snapshot = self._snapshot(keys)
            agreed = converged(snapshot, keys)
            if agreed or loop.now - started >= QUIESCE_LIMIT_S:
                break
            loop.run(until=loop.now + POLL_INTERVAL)
        recorder.record(FINAL, "info", QUIESCE,
                        value={"converged": agreed, "seconds": round(loop.now - started, 3)})
        for (node, key), (value, version) in snapshot.items():
            recorder.record(FINAL, "invoke", FINAL_READ, key=key, node=node)
            recorder.record(FINAL, "ok", FINAL_READ, key=key, node=node, value=value,
                            version=version)
        for i, key in enumerate(keys):
            self._final_read(i, key)

    def _final_read(self, i: int, key: str) -> None:
        home = self.node_ids[i % len(self.node_ids)]
        process: Process = self.agents.get(home) or self.nodes[home]
        self.recorder.record(FINAL, "invoke", "read", key=key)
        outcomes: list[Any] = []
        process.start_op(process.coordinator.read_op(key), None,
                         lambda outcome: (outcomes.append(outcome), self.loop.stop()))
        if not outcomes:
            self.loop.run(until=self.loop.now + self.op_timeout)
        outcome = outcomes[0] if outcomes else None
        if isinstance(outcome, ReadResult):
            self.recorder.record(FINAL, "ok", "read", key=key, value=outcome.value,
                                 version=outcome.version)
        else:
            error = getattr(outcome, "message", f"timeout after {self.op_timeout:g}s")
            self.recorder.record(FINAL, "fail", "read", key=key, error=error)


def simulate(schedule: Schedule, trace: bool = False) -> SimResult:
    """Run ``schedule`` once; the same schedule always gives the same result."""
    started = time.perf_counter()
    sim = Simulation(schedule, trace)
    sim.run()
    events = sim.recorder.events
    return SimResult(schedule, events, sim.recorder.history(), sim.net.trace, sim.applied,
                     stats={"messages": sim.net.sent, "lost": sim.net.lost,
                            "callbacks": sim.loop.callbacks,
                            "virtual_seconds": round(sim.loop.now, 6),
                            "wall_seconds": time.perf_counter() - started})
