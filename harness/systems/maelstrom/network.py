"""The Maelstrom backend: node programs as local processes whose stdin and
stdout are the network, carried by the harness (the I/O shell around router.py).

Each node is a process in its own group (so SIGKILL and SIGSTOP reach all of
it), its stderr appended to ``nodes/<id>.log``, its stdout read line by line
into the router. Starting a node sends it ``init`` and it counts as up once it
answers ``init_ok``; a killed node loses its memory, as in Maelstrom, and is
initialised again when it starts. A paused node's messages wait in its stdin
pipe, which is what a frozen process's socket buffer would do.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import time
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import orjson

from harness.backends.base import Backend, ClusterSpec
from harness.backends.local.backend import die_with_parent, kill_group
from harness.systems.maelstrom.router import Action, Deliver, Router
from nemesis.capabilities import Grudge, NetworkFaults, ProcessControl

HARNESS_CLIENT = "c0"  # who sends init; workers are c1..
LINE_LIMIT = 1 << 20  # longest stdout line a node may write
INIT_TIMEOUT_S = 5.0
EXIT_WAIT_S = 5.0


class MaelstromNetwork(Backend):
    """Runs ``command`` once per node and is the network between them."""

    CAPABILITIES = frozenset({ProcessControl, NetworkFaults})

    def __init__(self, spec: ClusterSpec, command: Sequence[str]) -> None:
        super().__init__(spec)
        self.command = list(command)
        self.router = Router(spec.nodes)
        self._procs: dict[str, asyncio.subprocess.Process] = {}
        self._readers: dict[str, asyncio.Task[None]] = {}
        self._paused: set[str] = set()
        self._ready: dict[str, asyncio.Event] = {node: asyncio.Event() for node in spec.nodes}
        self._pending: dict[tuple[str, int], asyncio.Future[dict[str, Any]]] = {}
        self._msg_ids = itertools.count(1)
        self._wake = asyncio.Event()
        self._timer: asyncio.Task[None] | None = None
        self._inits: set[asyncio.Task[None]] = set()
        self.late_replies = 0  # replies to requests that had already timed out

    def log_path(self, node: str) -> Path:
        return self.spec.run_dir / "nodes" / f"{node}.log"

    # lifecycle
    async def setup(self) -> None:
        (self.spec.run_dir / "nodes").mkdir(parents=True, exist_ok=True)
        self._timer = asyncio.create_task(self._deliver_due())
        try:
            for node in self.spec.nodes:
                await self._spawn(node)
        except BaseException:
            await self.teardown()
            raise

    async def teardown(self) -> None:
        for init in list(self._inits):
            init.cancel()
        for node in list(self._procs):
            await self.kill(node)
        if self._timer is not None:
            self._timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._timer
            self._timer = None

    def public_url(self, node: str) -> str:
        return node  # clients address a node by its id; the router does the rest

    def client_url(self, home: str) -> str:
        return home

    async def wait_ready(self, limit: float) -> list[str]:
        """Wait until every node answered init; the ones that did not (at once
        for a node whose process exited)."""
        deadline = time.monotonic() + limit
        while True:
            waiting = [node for node in self.spec.nodes if not self._ready[node].is_set()]
            exited = [node for node in waiting if self._procs[node].returncode is not None]
            if not waiting or exited or time.monotonic() > deadline:
                return exited or waiting
            await asyncio.sleep(0.05)

    # the clients' side
    async def request(self, client: str, node: str, body: dict[str, Any],
                      timeout: float) -> dict[str, Any] | None:
        """Send ``body`` from ``client`` to ``node``; the reply's body, or None on timeout."""
        msg_id = next(self._msg_ids)
        reply: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[(client, msg_id)] = reply
        self._perform(self.router.from_client(
            {"src": client, "dest": node, "body": {**body, "msg_id": msg_id}}))
        try:
            return await asyncio.wait_for(reply, timeout)
        except TimeoutError:
            return None
        finally:
            self._pending.pop((client, msg_id), None)

    # process control
    async def kill(self, node: str) -> None:
        proc = self._procs.get(node)
        self.router.node_down(node)
        self._ready[node].clear()
        self._paused.discard(node)
        if proc is None:
            return
        kill_group(proc, signal.SIGKILL)  # type: ignore[arg-type]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), EXIT_WAIT_S)
        reader = self._readers.pop(node, None)
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def start(self, node: str) -> None:
        proc = self._procs.get(node)
        if proc is not None and proc.returncode is None:
            return
        await self.kill(node)
        await self._spawn(node)

    async def pause(self, node: str) -> None:
        proc = self._procs.get(node)
        if proc is not None and proc.returncode is None:
            kill_group(proc, signal.SIGSTOP)  # type: ignore[arg-type]
            self._paused.add(node)

    async def resume(self, node: str) -> None:
        proc = self._procs.get(node)
        if node in self._paused and proc is not None:
            kill_group(proc, signal.SIGCONT)  # type: ignore[arg-type]
        self._paused.discard(node)

    # network faults
    async def partition(self, grudge: Grudge) -> None:
        self.router.partition(grudge)

    async def heal(self) -> None:
        self.router.heal()

    async def answers(self, src: str, dsts: Collection[str]) -> dict[str, bool]:
        """Would ``src`` hear back from each of ``dsts`` now? Here the router is
        the network, so its state is the whole answer: both directions open,
        the destination up and not frozen."""
        grudge = self.router.grudge
        return {dst: (src not in grudge.get(dst, ()) and dst not in grudge.get(src, ())
                      and dst not in self.router.down and dst not in self._paused)
                for dst in dsts}

    async def set_link_delay(self, delay_ms: float, jitter_ms: float = 0.0,
                             loss: float = 0.0) -> None:
        self.router.set_delay(delay_ms / 1000, jitter_ms / 1000, loss)

    async def clear_link_delay(self) -> None:
        self.router.clear_delay()

    # I/O
    async def _spawn(self, node: str) -> None:
        self._note(node, f"starting {node}: {' '.join(self.command)}")
        with open(self.log_path(node), "ab") as log:
            try:
                proc = await asyncio.create_subprocess_exec(
                    *self.command, stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE, stderr=log,
                    start_new_session=True, limit=LINE_LIMIT,
                    preexec_fn=die_with_parent(os.getpid()))
            except OSError as exc:
                raise RuntimeError(f"cannot start {node}: {exc}") from None
        self._procs[node] = proc
        self.router.node_up(node)
        self._readers[node] = asyncio.create_task(self._read(node, proc))
        init = asyncio.create_task(self._init(node))
        self._inits.add(init)
        init.add_done_callback(self._inits.discard)

    async def _init(self, node: str) -> None:
        """Send init until the node answers init_ok (a slow start is not a dead node)."""
        body = {"type": "init", "node_id": node, "node_ids": list(self.spec.nodes)}
        proc = self._procs[node]
        while proc.returncode is None:
            reply = await self.request(HARNESS_CLIENT, node, body, INIT_TIMEOUT_S)
            if reply is not None and reply.get("type") == "init_ok":
                self._ready[node].set()
                return
            self._note(node, f"no init_ok within {INIT_TIMEOUT_S:g}s (got {reply!r})")

    async def _read(self, node: str, proc: asyncio.subprocess.Process) -> None:
        assert proc.stdout is not None
        while True:
            try:
                line = await proc.stdout.readline()
            except ValueError:  # longer than LINE_LIMIT: skip it, keep the node
                self._note(node, f"stdout line over {LINE_LIMIT} bytes dropped")
                self.router.stats.not_messages[node] += 1
                continue
            if not line:
                return
            if line.strip():
                self._perform(self.router.from_node(node, line, time.monotonic()))
                if self.router.next_due() is not None:
                    self._wake.set()  # a held message may now be the next one due

    def _perform(self, actions: list[Action]) -> None:
        for action in actions:
            if not isinstance(action, Deliver):
                self._note(action.node, f"{action.reason} on stdout: {action.line[:500]}")
            elif action.dest in self._procs:
                self._write(action.dest, action.message)
            else:
                self._reply(action.dest, action.message)

    def _write(self, node: str, message: dict[str, Any]) -> None:
        proc = self._procs[node]
        if proc.stdin is None or proc.returncode is not None:
            return
        with contextlib.suppress(ConnectionError, RuntimeError):
            proc.stdin.write(orjson.dumps(message) + b"\n")  # buffered: never blocks

    def _reply(self, client: str, message: dict[str, Any]) -> None:
        body = message["body"]
        waiting = self._pending.get((client, body.get("in_reply_to")))
        if waiting is not None and not waiting.done():
            waiting.set_result(body)
        else:
            self.late_replies += 1

    async def _deliver_due(self) -> None:
        """Deliver held (delayed) messages when their time comes."""
        while True:
            due = self.router.next_due()
            self._wake.clear()
            wait = None if due is None else max(0.0, due - time.monotonic())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
            self._perform(self.router.tick(time.monotonic()))

    def _note(self, node: str, text: str) -> None:
        with open(self.log_path(node), "a") as log:
            log.write(f"--- quorumlab: {text}\n")
