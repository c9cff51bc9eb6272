"""Simulated clients: each runs its list of ops one after another, with its own
op timeout, and records them as the harness's workers do (harness/workload.py):
unique written values ``<process>-<seq>``, a new process id after an ``info``,
a short back-off after a ``fail``, and DESIGN.md's classification (a write is
``fail`` only when it certainly did not happen; a failed read is ``fail``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.workload import FAIL_BACKOFF
from replica.protocol import Failed, ReadResult, WriteResult
from sim.schedule import ClientOp

if TYPE_CHECKING:
    from sim.simulation import Simulation


class Worker:
    """One client thread at its home node."""

    def __init__(self, sim: Simulation, slot: int, ops: tuple[ClientOp, ...]) -> None:
        self.sim = sim
        self.ops = ops
        self.home = sim.node_ids[slot % len(sim.node_ids)]
        self.process = slot
        self.seq = 0
        self.position = 0
        self.pending: object | None = None
        self.tag: int | None = None  # invoke index of the op in flight
        self.op: tuple[str, str, Any] = ("read", "", None)
        self.rng = sim.schedule.rng(f"client-{slot}")
        # Its ops' replica order and message delays: a stream per client, so that
        # shrinking away another client's op leaves this one's draws as they were.
        self.stream = sim.schedule.rng(f"client-{slot}-messages")
        self.finished = not ops

    def next(self, pause: float = 0.0) -> None:
        if self.position >= len(self.ops):
            self.finished = True
            self.sim.worker_finished()
            return
        self.sim.loop.after(pause + self.ops[self.position].gap_ms / 1000.0, self.issue)

    def issue(self) -> None:
        sim = self.sim
        spec = self.ops[self.position]
        key = f"k{spec.key}"
        value = None
        if spec.f == "write":
            self.seq += 1
            value = f"{self.process}-{self.seq}"
        self.op = (spec.f, key, value)
        self.tag = sim.recorder.record(self.process, "invoke", spec.f, key=key, value=value,
                                       node=self.home).index
        token = self.pending = object()
        sim.loop.after(sim.op_timeout, self.complete, token, None,
                       f"timeout after {sim.schedule.op_timeout_ms / 1000:g}s")
        sim.client_request(self, token, spec.f, key, value)

    def complete(self, token: object, outcome: Any, error: str | None) -> None:
        """The op's end: an outcome of the protocol, or a transport error."""
        if token is not self.pending:
            return
        self.pending = None
        f, key, value = self.op
        version = None
        if isinstance(outcome, ReadResult):
            kind, value, version = "ok", outcome.value, outcome.version
        elif isinstance(outcome, WriteResult):
            kind, version = "ok", outcome.version
        elif isinstance(outcome, Failed):
            kind = "fail" if outcome.definite or f == "read" else "info"
            error = f"HTTP 503: {outcome.message}"
        else:  # refused before sending: certainly nothing happened
            kind = "fail" if f == "read" or error == "connection refused" else "info"
        self.sim.recorder.record(self.process, kind, f, key=key, value=value,
                                 version=version, error=error, node=self.home)
        self.position += 1
        if kind == "info":
            self.process += len(self.sim.workers)
            self.seq = 0
            self.next()
        elif kind == "fail":
            self.next(FAIL_BACKOFF * self.rng.uniform(0.5, 1.5))
        else:
            self.next()
