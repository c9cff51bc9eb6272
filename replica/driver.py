"""The asyncio adapter around the sans-I/O quorum core.

``QuorumDriver`` turns the core's actions into transport requests and timers and
feeds their results back as events. The node coordinator and the fan-out client
both use it; they differ only in the transport (a node serves itself in-process)
and in where the buggy version sources come from. Every decision (which
replicas, in which order, which version counter) is the ``Coordinator``'s
(replica/coordinator.py), which the simulator drives too.

Every phase asks all of a key's replicas at once; see replica/protocol.py for
why no replica is held back for a hedge.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from replica.coordinator import Coordinator
from replica.errors import QuorumError
from replica.protocol import (
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
        self.request_timeout = request_timeout
        self.coordinator = Coordinator(nodes, n=n, r=r, w=w, writer=writer, bugs=bugs,
                                       local_counter=local_counter,
                                       clock_micros=clock_micros, prefer=prefer)
        self._inflight: set[asyncio.Task[None]] = set()

    @property
    def writer(self) -> str:
        return self.coordinator.writer

    def replicas(self, key: str) -> list[str]:
        return self.coordinator.replicas(key)

    async def read(self, key: str) -> tuple[Any, Version | None]:
        outcome = await self._run(self.coordinator.read_op(key))
        assert isinstance(outcome, ReadResult)
        self.coordinator.observe(key, outcome.version)
        return outcome.value, outcome.version

    async def write(self, key: str, value: Any) -> Version:
        outcome = await self._run(self.coordinator.write_op(key, value))
        assert isinstance(outcome, WriteResult)
        self.coordinator.observe(key, outcome.version)
        return outcome.version

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
