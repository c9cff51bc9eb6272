"""The asyncio adapter around the sans-I/O quorum core.

``QuorumDriver`` turns the core's actions into transport requests and timers and
feeds their results back as events. The node coordinator and the fan-out client
both use it; they differ only in the transport (a node serves itself in-process)
and in where the buggy version sources come from.

Every phase asks all of a key's replicas at once (the node itself first, since
that is free, then peers in random order); see replica/protocol.py for why no
replica is held back for a hedge.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Iterable
from typing import Any

from replica.errors import QuorumError
from replica.placement import preference_list
from replica.protocol import (
    LOCAL_VERSION,
    WALL_CLOCK,
    Action,
    ArmTimer,
    Event,
    Failed,
    NoReply,
    ReadOp,
    ReadResult,
    Reply,
    Send,
    Timeout,
    WriteOp,
    WriteResult,
)
from replica.transport import Transport, Unreachable
from replica.version import Version


class QuorumDriver:
    """Runs quorum reads and writes over a transport, with one timeout per phase."""

    def __init__(self, transport: Transport, nodes: Iterable[str], *, n: int, r: int, w: int,
                 writer: str, request_timeout: float, bugs: Iterable[str] = (),
                 local_counter: Callable[[str], int] | None = None,
                 clock_micros: Callable[[], int] | None = None,
                 prefer: str | None = None) -> None:
        self.transport = transport
        self.nodes = sorted(nodes)
        self.n, self.r, self.w = n, r, w
        self.writer = writer
        self.request_timeout = request_timeout
        self.bugs = frozenset(bugs)
        self._local_counter = local_counter
        self._clock_micros = clock_micros
        self._inflight: set[asyncio.Task[None]] = set()
        self._issued: dict[str, int] = {}  # counters this writer used, per key
        self._prefer = prefer  # the node itself, asked first

    def replicas(self, key: str) -> list[str]:
        return preference_list(key, self.nodes, self.n)

    def _ask_order(self, key: str) -> list[str]:
        replicas = self.replicas(key)
        random.shuffle(replicas)
        if self._prefer in replicas:
            replicas.remove(self._prefer)
            replicas.insert(0, self._prefer)
        return replicas

    async def read(self, key: str) -> tuple[Any, Version | None]:
        op = ReadOp(key, self._ask_order(key), self.r, self.w, self.bugs)
        outcome = await self._run(op)
        assert isinstance(outcome, ReadResult)
        return outcome.value, outcome.version

    async def write(self, key: str, value: Any) -> Version:
        op = WriteOp(key, value, self._ask_order(key), self.r, self.w, self.writer, self.bugs,
                     fixed_counter=self._fixed_counter(key), issued=self._issued)
        outcome = await self._run(op)
        assert isinstance(outcome, WriteResult)
        return outcome.version

    def _fixed_counter(self, key: str) -> int | None:
        """The counter the buggy version sources pick (None: the correct quorum read)."""
        if WALL_CLOCK in self.bugs and self._clock_micros is not None:
            return self._clock_micros()
        if LOCAL_VERSION in self.bugs and self._local_counter is not None:
            return self._local_counter(key) + 1
        return None

    async def _run(self, op: ReadOp | WriteOp) -> ReadResult | WriteResult:
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[Event] = asyncio.Queue()
        timers: list[asyncio.TimerHandle] = []

        def act(actions: list[Action]) -> None:
            for action in actions:
                if isinstance(action, ArmTimer):
                    timers.append(loop.call_later(self.request_timeout, events.put_nowait,
                                                  Timeout(action.phase)))
                else:
                    task = loop.create_task(self._exchange(action, events))
                    self._inflight.add(task)
                    task.add_done_callback(self._inflight.discard)

        try:
            act(op.start())
            while not op.done:
                act(op.handle(await events.get()))
        finally:
            for timer in timers:
                timer.cancel()
        outcome = op.outcome
        if isinstance(outcome, Failed):
            raise QuorumError(outcome.message, outcome.definite)
        assert outcome is not None
        return outcome

    async def _exchange(self, send: Send, events: asyncio.Queue[Event]) -> None:
        try:
            value, version = await self.transport.request(send.node, send.msg)
        except Unreachable as exc:
            events.put_nowait(NoReply(send.node, send.phase, exc.delivered, exc.reason))
            return
        except Exception as exc:
            events.put_nowait(NoReply(send.node, send.phase, True, f"error: {exc}"))
            return
        events.put_nowait(Reply(send.node, send.phase, value, version))
