"""Link proxies: the local backend's network, which the nemesis can cut or slow.

Every directed link ``i -> j`` (connections that node ``i`` opens to node ``j``)
is a TCP listener on 127.0.0.1 that forwards to ``j``'s real address. Node
``i`` is told that ``j`` lives at the listener, so all its traffic to ``j``
crosses the proxy, in both directions.

Partitions model dropped packets, not refused connections. Bytes travelling
from ``a`` to ``b`` are *held* (not forwarded, not discarded) while ``b``'s
grudge names ``a``; the sender's writes still succeed, as they do into a
kernel buffer. So an existing connection stalls, and a new one is accepted (the
listener is local) but is not carried on to the target until both directions
are open again, as a TCP handshake needs. When the partition heals the held
bytes are delivered in order, as TCP retransmission would, so late requests do
arrive late: a replica must cope with that. A connection the initiator closes
before it reached the target is dropped (a kernel aborts a SYN_SENT socket).

A killed target refuses, as a host whose process died does: while the backend
says ``dst`` is down and the link is not cut, the listener is closed, so the
kernel refuses new connections (a cut link still hangs: the SYN is lost).

Delay and loss act per chunk of bytes, in order: a chunk is delivered
``delay ± jitter`` after it was read; a "lost" chunk costs an extra
:data:`RETRANSMIT_S`, since under TCP a dropped segment is a late one.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

RETRANSMIT_S = 0.2  # Linux's minimum retransmission timeout
HIGH_WATER = 1 << 20  # bytes held per direction before the sender is throttled
LOW_WATER = 1 << 18
LOCALHOST = "127.0.0.1"


@dataclass
class _Delay:
    delay: float = 0.0
    jitter: float = 0.0
    loss: float = 0.0

    def active(self) -> bool:
        return self.delay > 0 or self.jitter > 0 or self.loss > 0


_EOF = object()  # the sender shut down its writing half
_CLOSE = object()  # the sender closed the connection


class Link:
    """One directed link ``src -> dst``: a listener and its fault state."""

    def __init__(self, src: str, dst: str, target: tuple[str, int], rng: random.Random,
                 port: int = 0) -> None:
        self.src, self.dst, self.target = src, dst, target
        self.blocked = {True: False, False: False}  # forward (src->dst) / backward
        self.delay = _Delay()
        self.connectable = asyncio.Event()
        self.connectable.set()
        self.connections: set[_Connection] = set()
        self.server: asyncio.Server | None = None
        self.port = port  # 0: the kernel picks one on first listen; kept after
        self.target_up = True
        self.rng = rng

    async def sync_listener(self) -> None:
        """Listen unless the target is down and nothing cuts the link (refuse then)."""
        refuse = not self.target_up and not any(self.blocked.values())
        if refuse and self.server is not None:
            self.server.close()  # established connections stay; new ones are refused
            self.server = None
        elif not refuse and self.server is None:
            loop = asyncio.get_running_loop()
            self.server = await loop.create_server(
                lambda: _Connection(self).down, LOCALHOST, self.port)
            self.port = self.server.sockets[0].getsockname()[1]

    async def set_blocked(self, forward: bool, backward: bool) -> None:
        self.blocked = {True: forward, False: backward}
        if forward or backward:
            self.connectable.clear()
        else:
            self.connectable.set()
        await self.sync_listener()
        for conn in list(self.connections):
            conn.forward.flush()
            conn.backward.flush()

    def deliver_at(self, after: float) -> float:
        """When a chunk read now may be delivered (never before ``after``: in order)."""
        d = self.delay
        at = asyncio.get_running_loop().time() + d.delay
        if d.jitter:
            at += self.rng.uniform(-d.jitter, d.jitter)
        if d.loss and self.rng.random() < d.loss:
            at += RETRANSMIT_S
        return max(at, after)

    async def close(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.close()
        for conn in list(self.connections):
            conn.abort()
        if server is not None:
            await server.wait_closed()


class _Side(asyncio.Protocol):
    """One TCP connection of a proxied pair: ``down`` from the initiator, ``up``
    to the target."""

    def __init__(self, conn: _Connection, is_down: bool) -> None:
        self.conn, self.is_down = conn, is_down
        self.transport: asyncio.Transport | None = None
        self.lost = False
        self._pause_reasons: set[str] = set()

    # feeding: bytes read on this side go out through `out`
    @property
    def out(self) -> _Pipe:
        return self.conn.forward if self.is_down else self.conn.backward

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        if self.is_down:
            self.conn.accepted()

    def data_received(self, data: bytes) -> None:
        self.out.push(data)

    def eof_received(self) -> bool:
        if self.is_down and self.conn.never_reaches_target():
            self.conn.abort()
            return False
        self.out.push(_EOF)
        return True  # keep our writing half open: the other way may still talk

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.conn.side_lost(self)

    # flow control: the target of our pipe is slow -> stop reading from us
    def pause_writing(self) -> None:
        self.conn.other(self).throttle("peer", True)

    def resume_writing(self) -> None:
        self.conn.other(self).throttle("peer", False)

    def throttle(self, reason: str, on: bool) -> None:
        if self.transport is None or self.lost:
            return
        before = bool(self._pause_reasons)
        if on:
            self._pause_reasons.add(reason)
        else:
            self._pause_reasons.discard(reason)
        if before != bool(self._pause_reasons):
            if self._pause_reasons:
                self.transport.pause_reading()
            else:
                self.transport.resume_reading()


class _Pipe:
    """One direction of a proxied connection: holds chunks until their delivery
    time has come and the direction is open."""

    def __init__(self, link: Link, forward: bool, src: _Side, dst: _Side) -> None:
        self.link, self.is_forward, self.src, self.dst = link, forward, src, dst
        self.queue: deque[tuple[float, object]] = deque()
        self.held = 0
        self.last_at = 0.0
        self.timer: asyncio.TimerHandle | None = None

    def _closed(self) -> bool:
        return self.link.blocked[self.is_forward] or self.dst.transport is None

    def push(self, item: object) -> None:
        if not self.queue and not self.link.delay.active() and not self._closed():
            self._deliver(item)  # the fast path: no fault on this link
            return
        self.last_at = self.link.deliver_at(self.last_at)
        self.queue.append((self.last_at, item))
        if isinstance(item, bytes):
            self.held += len(item)
            if self.held > HIGH_WATER:
                self.src.throttle("held", True)
        self.flush()

    def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self._closed():
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self.queue and self.queue[0][0] <= now:
            _, item = self.queue.popleft()
            if isinstance(item, bytes):
                self.held -= len(item)
            self._deliver(item)
        if self.queue:
            self.timer = loop.call_at(self.queue[0][0], self.flush)
        if self.held < LOW_WATER:
            self.src.throttle("held", False)

    def discard(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.queue.clear()
        self.held = 0

    def _deliver(self, item: object) -> None:
        transport = self.dst.transport
        if transport is None or transport.is_closing():
            return
        if item is _CLOSE:
            transport.close()
        elif item is _EOF:
            try:
                transport.write_eof()
            except OSError:  # the peer is gone and its loss not yet reported
                transport.abort()
        else:
            transport.write(item)  # type: ignore[arg-type]


class _Connection:
    """A proxied connection: the accepted ``down`` side and the ``up`` side to
    the target, opened once the link lets a handshake through."""

    def __init__(self, link: Link) -> None:
        self.link = link
        self.down = _Side(self, is_down=True)
        self.up = _Side(self, is_down=False)
        self.forward = _Pipe(link, True, self.down, self.up)
        self.backward = _Pipe(link, False, self.up, self.down)
        self.connecting: asyncio.Task[None] | None = None

    def other(self, side: _Side) -> _Side:
        return self.up if side is self.down else self.down

    def accepted(self) -> None:
        self.link.connections.add(self)
        self.connecting = asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        await self.link.connectable.wait()
        loop = asyncio.get_running_loop()
        host, port = self.link.target
        try:
            await loop.create_connection(lambda: self.up, host, port)
        except OSError:  # the target is down: the initiator sees a reset
            self.abort()
            return
        self.forward.flush()

    def never_reaches_target(self) -> bool:
        """Whether this connection's handshake is still held by a cut link.

        Its initiator cannot get an answer before the heal; if it gives up
        (closes), a real network holds nothing for it: the SYN was lost. So the
        proxy drops it then, instead of holding a socket per attempt until the
        heal (a client that retries every op opens a thousand a second).
        """
        return self.up.transport is None and not self.link.connectable.is_set()

    def side_lost(self, side: _Side) -> None:
        if side is self.down and self.up.transport is None:
            self.abort()  # closed before it reached the target
            return
        side.out.push(_CLOSE)
        if side is self.up:
            self.forward.discard()  # nothing can reach a closed target any more
        if self.down.lost and (self.up.lost or self.up.transport is None):
            self.abort()

    def abort(self) -> None:
        self.link.connections.discard(self)
        if self.connecting is not None and self.connecting is not asyncio.current_task():
            self.connecting.cancel()
        for pipe in (self.forward, self.backward):
            pipe.discard()
        for side in (self.down, self.up):
            if side.transport is not None and not side.lost:
                side.transport.abort()


class LinkProxies:
    """All link proxies of a cluster and the faults applied to them."""

    def __init__(self, seed: int | None = None) -> None:
        self.links: dict[tuple[str, str], Link] = {}
        self._rng = random.Random(seed)

    async def add(self, src: str, dst: str, target: tuple[str, int], port: int = 0) -> int:
        """Start the proxy for ``src -> dst`` forwarding to ``target``; its port.

        Give a ``port`` outside the kernel's ephemeral range when the link may
        stop listening (a killed target): an outgoing socket cannot take it then.
        """
        link = Link(src, dst, target, self._rng, port)
        self.links[(src, dst)] = link
        await link.sync_listener()
        return link.port

    def port(self, src: str, dst: str) -> int:
        return self.links[(src, dst)].port

    async def partition(self, grudge: dict[str, Iterable[str]]) -> None:
        """Apply ``grudge`` (node -> nodes it drops traffic from), replacing the
        previous partition."""
        drops = {node: set(dropped) for node, dropped in grudge.items()}
        for (src, dst), link in self.links.items():
            await link.set_blocked(forward=src in drops.get(dst, ()),
                                   backward=dst in drops.get(src, ()))

    async def heal(self) -> None:
        for link in self.links.values():
            await link.set_blocked(False, False)

    async def set_target_up(self, node: str, up: bool) -> None:
        """Tell the links into ``node`` whether it runs (a dead one refuses)."""
        for (_, dst), link in self.links.items():
            if dst == node:
                link.target_up = up
                await link.sync_listener()

    def set_delay(self, delay_s: float, jitter_s: float = 0.0, loss: float = 0.0) -> None:
        for link in self.links.values():
            link.delay = _Delay(delay_s, jitter_s, loss)

    def clear_delay(self) -> None:
        self.set_delay(0.0)

    async def close(self) -> None:
        """Stop every listener and drop every connection. Safe to call twice."""
        links, self.links = list(self.links.values()), {}
        await asyncio.gather(*(link.close() for link in links), return_exceptions=True)
