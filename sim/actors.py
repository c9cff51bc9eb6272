"""Simulated processes: reference nodes and fan-out agents, under virtual time.

Everything a node decides comes from the replica's sans-I/O core: the
``Coordinator`` makes each operation, ``ReadOp``/``WriteOp`` run the quorum
protocol, ``Records`` decides what is stored, visible, committed and lost,
``antientropy`` picks the peer and the records to exchange. What is replaced
is only the I/O: messages go through ``sim.network``, timers and the disk's
latency through ``sim.loop``, and the "disk" is a ``Records`` that survives a
crash (wiped at boot under the ``amnesia`` bug).

A process lives through incarnations: a crash ends one, a restart begins the
next with a new boot number (so a new writer id, as ``n:<node>:<boot>``). A
message or timer of an earlier incarnation is dropped; a request that reaches
a node that died meanwhile is answered "connection reset" (it may have
arrived: ``delivered``), one sent to a node that is down is refused
(certainly not delivered). A paused process keeps everything that reaches it
and handles it on resume, in order.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from replica import antientropy
from replica.coordinator import Coordinator
from replica.protocol import (
    AMNESIA,
    ASYNC_COMMIT,
    ArmTimer,
    Failed,
    Get,
    NoReply,
    Put,
    ReadOp,
    Reply,
    Timeout,
    WriteOp,
)
from replica.records import ASYNC_FLUSH_INTERVAL, Records, Row

if TYPE_CHECKING:
    from sim.simulation import Simulation

Done = Callable[[Any], None]


class OpRun:
    """One quorum operation in progress at its coordinator."""

    __slots__ = ("done", "finished", "inc", "op", "rng", "tag")

    def __init__(self, op: ReadOp | WriteOp, inc: int, tag: int | None, done: Done,
                 rng: random.Random | None = None) -> None:
        self.op = op
        self.inc = inc  # the coordinator's incarnation that runs it
        self.tag = tag  # the client op's invoke index (for the story)
        self.done = done
        self.finished = False
        self.rng = rng  # its messages' delays (None: the network's own stream)


class Process:
    """What nodes and agents share: incarnations, pause, and coordinating ops."""

    def __init__(self, sim: Simulation, name: str, position: str) -> None:
        self.sim = sim
        self.name = name
        self.position = position  # the node whose network place it has
        self.incarnation = 1
        self.up = True
        self.paused = False
        self.backlog: list[tuple[Callable[..., Any], tuple[Any, ...]]] = []
        self.coordinator: Coordinator

    def run(self, inc: int, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn`` now if the process is still incarnation ``inc`` and awake."""
        if inc != self.incarnation or not self.up:
            return
        if self.paused:
            self.backlog.append((fn, args))
            return
        fn(*args)

    def arrive(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        """A message for whichever incarnation is up (lost if none is)."""
        if not self.up:
            return
        if self.paused:
            self.backlog.append((fn, args))
            return
        fn(*args)

    def resume(self) -> None:
        self.paused = False
        backlog, self.backlog = self.backlog, []
        for fn, args in backlog:
            if self.paused or not self.up:  # what it handled paused or crashed it again
                self.backlog.append((fn, args))
                continue
            fn(*args)

    # coordinating one quorum operation
    def start_op(self, op: ReadOp | WriteOp, tag: int | None, done: Done,
                 rng: random.Random | None = None) -> OpRun:
        run = OpRun(op, self.incarnation, tag, done, rng)
        self.act(run, op.start())
        return run

    def act(self, run: OpRun, actions: list[Any]) -> None:
        sim = self.sim
        for action in actions:
            if type(action) is ArmTimer:
                sim.loop.after(sim.request_timeout, self.deliver, run, Timeout(action.phase))
            elif action.node == self.name:
                self.serve_self(run, action.phase, action.msg)
            else:
                sim.request(self, run, action.node, action.phase, action.msg)
        if run.op.outcome is not None and not run.finished:
            run.finished = True
            outcome = run.op.outcome
            if not isinstance(outcome, Failed):
                self.coordinator.observe(run.op.key, outcome.version)
            run.done(outcome)

    def deliver(self, run: OpRun, event: Any) -> None:
        """An event of one of its operations (a reply, a failed request, a timer):
        dropped once the op is over or its incarnation gone, held while paused."""
        if run.inc != self.incarnation or not self.up or run.finished:
            return
        if self.paused:
            self.backlog.append((self.deliver, (run, event)))
            return
        self.act(run, run.op.handle(event))

    def serve_self(self, run: OpRun, phase: int, msg: Get | Put) -> None:
        raise NotImplementedError("only a node holds a replica")


class Agent(Process):
    """A fan-out client's coordinator at its home node's network position: it
    runs the protocol against every node's internal API (``--mode client``).
    Its writer id is ``c:<home>``; it never crashes."""

    def __init__(self, sim: Simulation, home: str) -> None:
        super().__init__(sim, f"agent@{home}", home)
        self.coordinator = Coordinator(
            sim.node_ids, n=sim.schedule.replication, r=sim.schedule.read_quorum,
            w=sim.schedule.write_quorum, writer=f"c:{home}", bugs=sim.schedule.bugs,
            clock_micros=sim.host_micros, rng=sim.schedule.rng(f"{home}-agent"))


class Node(Process):
    """One reference replica node."""

    def __init__(self, sim: Simulation, node_id: str, index: int) -> None:
        super().__init__(sim, node_id, node_id)
        schedule = sim.schedule
        self.index = index
        self.disk: Records[None] = Records()  # what survives a crash
        self.boot = 0
        self.offset = (schedule.clock_offsets_ms[index] / 1000.0
                       if schedule.clock_offsets_ms else 0.0)
        self.skew = 0.0  # the clock-skew fault's offset, seconds
        self.disk_s = (schedule.disks_ms[index] if schedule.disks_ms else schedule.disk_ms) / 1000
        self.ask_rng = schedule.rng(f"{node_id}-ask")
        self.ae_rng = schedule.rng(f"{node_id}-ae")
        self.disk_rng = schedule.rng(f"{node_id}-disk")
        self.others = [peer for peer in sim.node_ids if peer != node_id]
        self.incarnation = 0
        self.records: Records[Any]
        self.clients: dict[OpRun, tuple[Any, Any]] = {}  # client ops coordinated here
        self.committing = False
        self._ae_token: object | None = None
        self._pending_exchange: tuple[str, antientropy.Exchange] = ("", antientropy.Exchange([]))
        self.boot_up()

    # lifecycle
    def boot_up(self) -> None:
        """Start (again): a new incarnation and boot, records read from the disk."""
        sim, schedule = self.sim, self.sim.schedule
        self.boot += 1
        self.incarnation += 1
        self.up, self.paused, self.backlog = True, False, []
        if AMNESIA in schedule.bugs and self.boot > 1:
            self.disk = Records()
        self.records = Records(schedule.group_commit, ASYNC_COMMIT in schedule.bugs)
        self.records.load((key, rec.value_json, rec.version) for key, rec in self.disk.items())
        self.committing = False
        self.in_commit: list[tuple[int, Any]] = []  # waiters of the commit under way
        self.clients = {}
        self._ae_token = None
        records = self.records

        def local_counter(key: str) -> int:
            record = records.get(key)
            return record.version.counter if record else 0

        self.coordinator = Coordinator(
            sim.node_ids, n=schedule.replication, r=schedule.read_quorum,
            w=schedule.write_quorum, writer=f"n:{self.name}:{self.boot}", bugs=schedule.bugs,
            local_counter=local_counter, clock_micros=self.micros, prefer=self.name,
            rng=self.ask_rng)
        if ASYNC_COMMIT in schedule.bugs:
            sim.loop.after(ASYNC_FLUSH_INTERVAL, self.run, self.incarnation, self.flush)
        if self.others and sim.anti_entropy > 0:
            self._next_exchange()

    def crash(self) -> None:
        """SIGKILL: whatever was not on the disk is gone; open connections reset."""
        if not self.up:
            return
        sim = self.sim
        self.up = False
        self.incarnation += 1
        self.backlog = []
        for run, (worker, token) in self.clients.items():
            sim.client_reply(worker, token, None, "connection reset")
            run.finished = True
        self.clients = {}
        waiting = list(self.in_commit)
        while self.records.waiting:
            waiting += self.records.next_batch()[1]
        for _, waiter in waiting:  # writes waiting for the disk: their connections reset
            if waiter is not None and waiter[0] is not self:
                sender, run, phase, _ = waiter
                sim.reply(self.name, sender, run,
                          NoReply(self.name, phase, True, "connection reset"))

    def micros(self) -> int:
        """This node's wall clock (only the wall-clock bug reads it)."""
        return self.sim.host_micros(self.offset + self.skew)

    # the replica: internal API and storage
    def on_request(self, inc: int, sender: Process, run: OpRun, phase: int,
                   msg: Get | Put) -> None:
        """A peer's (or an agent's) request arrives."""
        if not self.up or inc != self.incarnation:
            self.sim.reply(self.name, sender, run,
                           NoReply(self.name, phase, True, "connection reset"))
            return
        if self.paused:
            self.backlog.append((self.on_request, (inc, sender, run, phase, msg)))
            return
        if type(msg) is Get:
            record = self.records.get(msg.key)
            reply = (Reply(self.name, phase, None, None) if record is None else
                     Reply(self.name, phase, orjson.loads(record.value_json), record.version))
            self.sim.reply(self.name, sender, run, reply)
        else:
            self.store(msg, (sender, run, phase, msg.key))

    def serve_self(self, run: OpRun, phase: int, msg: Get | Put) -> None:
        """The coordinator's own replica, in-process (as ``LocalFirstTransport``)."""
        if type(msg) is Get:
            record = self.records.get(msg.key)
            reply = (Reply(self.name, phase, None, None) if record is None else
                     Reply(self.name, phase, orjson.loads(record.value_json), record.version))
            self.sim.loop.after(0.0, self.deliver, run, reply)
        else:
            self.store(msg, (self, run, phase, msg.key))

    def store(self, msg: Put, waiter: tuple[Process, OpRun, int, str]) -> None:
        row = (msg.key, orjson.dumps(msg.value).decode(), msg.version)
        if self.records.submit([row], waiter) is None:
            self._commit_soon()
        else:
            self._answer(waiter)

    def _answer(self, waiter: tuple[Process, OpRun, int, str]) -> None:
        sender, run, phase, key = waiter
        record = self.records.get(key)
        reply = Reply(self.name, phase, None, record.version if record else None)
        if sender is self:
            self.sim.loop.after(0.0, self.deliver, run, reply)
        else:
            self.sim.reply(self.name, sender, run, reply)

    def _commit_soon(self) -> None:
        if self.committing or not self.records.waiting:
            return
        self.committing = True
        rows, waiters = self.records.next_batch()
        self.in_commit = waiters
        took = self.disk_s * self.disk_rng.uniform(0.5, 1.5)
        self.sim.loop.after(took, self.run, self.incarnation, self._committed, rows, waiters)

    def _committed(self, rows: list[Row], waiters: list[tuple[int, Any]]) -> None:
        self.disk.apply(rows)
        self.records.committed(rows)
        self.committing, self.in_commit = False, []
        for _, waiter in waiters:
            if waiter is not None:
                self._answer(waiter)
        self._commit_soon()

    def flush(self) -> None:
        """The async-commit bug's periodic flush."""
        self.disk.apply(self.records.take_unflushed())
        self.sim.loop.after(ASYNC_FLUSH_INTERVAL, self.run, self.incarnation, self.flush)

    # client requests (coordinator mode)
    def on_client(self, inc: int, worker: Any, token: Any, f: str, key: str,
                  value: Any) -> None:
        sim = self.sim
        if not self.up or inc != self.incarnation:
            sim.client_reply(worker, token, None, "connection reset")
            return
        if self.paused:
            self.backlog.append((self.on_client, (inc, worker, token, f, key, value)))
            return
        rng = worker.stream
        op = (self.coordinator.read_op(key, rng) if f == "read"
              else self.coordinator.write_op(key, value, rng))
        run = OpRun(op, self.incarnation, worker.tag, lambda outcome: None, rng)
        self.clients[run] = (worker, token)

        def done(outcome: Any) -> None:
            self.clients.pop(run, None)
            sim.client_reply(worker, token, outcome, None)

        run.done = done
        self.act(run, op.start())

    # anti-entropy
    def _next_exchange(self) -> None:
        wait, peer = antientropy.next_exchange(self.sim.anti_entropy, self.others, self.ae_rng)
        self.sim.loop.after(wait, self.run, self.incarnation, self._exchange, peer)

    def _exchange(self, peer: str) -> None:
        sim = self.sim
        shared = antientropy.shared_rows(self.records.items(), peer, sim.node_ids,
                                         sim.schedule.replication)
        exchange = antientropy.Exchange(shared)
        token = self._ae_token = object()
        sim.loop.after(antientropy.EXCHANGE_TIMEOUT, self.run, self.incarnation,
                       self._exchange_over, token)
        self._pending_exchange = (peer, exchange)
        target = sim.nodes[peer]
        sim.send(self.name, target, ("ae-digest",), target.on_digest, self, token,
                 exchange.start())

    def on_digest(self, src: Node, token: object, digest: list[str]) -> None:
        sim = self.sim
        shared = antientropy.shared_rows(self.records.items(), src.name, sim.node_ids,
                                         sim.schedule.replication)
        reply = antientropy.respond(shared, digest)
        sim.send(self.name, src, ("ae-reply", len(reply.rows)), src.on_digest_reply, token,
                 reply)

    def on_digest_reply(self, token: object, reply: antientropy.DigestReply) -> None:
        if token is not self._ae_token:
            return
        peer, exchange = self._pending_exchange
        pull, push = exchange.on_reply(reply)
        if pull and self.records.submit(pull, None) is None:
            self._commit_soon()
        if push:
            target = self.sim.nodes[peer]
            self.sim.send(self.name, target, ("ae-push", len(push)), target.on_push, push)
        self._exchange_over(token)

    def on_push(self, rows: list[Row]) -> None:
        if self.records.submit(rows, None) is None:
            self._commit_soon()

    def _exchange_over(self, token: object) -> None:
        if token is self._ae_token:
            self._ae_token = None
            self._next_exchange()
