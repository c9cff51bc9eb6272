"""A replica node: storage, the coordinator, the internal API and anti-entropy.

The node coordinates any key through the shared quorum driver; requests to
itself are served in-process, requests to peers go over HTTP to the addresses
in the peer list only (a test harness may put a proxy there).
"""

from __future__ import annotations

import asyncio
import logging
import random
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from replica import antientropy
from replica.api import (
    BadRequest,
    check_key,
    check_value,
    check_version,
    json_response,
    make_app,
    public_routes,
    read_body,
)
from replica.clock import WallClock
from replica.delivery import new_session
from replica.driver import QuorumDriver
from replica.protocol import AMNESIA, ASYNC_COMMIT, Get, Put
from replica.storage import Store
from replica.transport import HttpTransport, Unreachable
from replica.version import Version, version_json

log = logging.getLogger("replica.node")

AE_BODY_LIMIT = 64 * 1024 * 1024  # a push carries many records


class LocalFirstTransport:
    """HTTP to peers, but the node's own replica is served in-process."""

    def __init__(self, node_id: str, store: Store, http: HttpTransport) -> None:
        self.node_id = node_id
        self.store = store
        self.http = http

    async def request(self, node: str, msg: Get | Put) -> tuple[Any, Version | None]:
        if node != self.node_id:
            return await self.http.request(node, msg)
        if isinstance(msg, Get):
            record = self.store.get(msg.key)
            if record is None:
                return None, None
            return orjson.loads(record.value_json), record.version
        stored = await self.store.put(msg.key, orjson.dumps(msg.value).decode(), msg.version)
        return None, stored


class Node:
    """Everything one replica runs. Create with ``await Node.start(...)``."""

    def __init__(self, node_id: str, peers: dict[str, str], n: int, store: Store,
                 http: HttpTransport, driver: QuorumDriver,
                 anti_entropy_interval: float) -> None:
        self.node_id = node_id
        self.peers = peers
        self.n = n
        self.store = store
        self.http = http
        self.driver = driver
        self.anti_entropy_interval = anti_entropy_interval
        self._ae_task: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, node_id: str, peers: dict[str, str], *, n: int, r: int, w: int,
                    data_dir: Path, request_timeout: float = 0.5,
                    anti_entropy_interval: float = 0.5, bugs: tuple[str, ...] = (),
                    clock: WallClock | None = None, group_commit: bool = True) -> Node:
        store = await Store.open(data_dir, group_commit=group_commit,
                                 async_commit=ASYNC_COMMIT in bugs, amnesia=AMNESIA in bugs)
        http = HttpTransport(peers, new_session(), request_timeout)
        clock = clock or WallClock()

        def local_counter(key: str) -> int:
            record = store.get(key)
            return record.version.counter if record else 0

        driver = QuorumDriver(
            LocalFirstTransport(node_id, store, http), peers, n=n, r=r, w=w,
            writer=f"n:{node_id}:{store.boot}", request_timeout=request_timeout, bugs=bugs,
            local_counter=local_counter, clock_micros=clock.micros, prefer=node_id)
        node = cls(node_id, peers, n, store, http, driver, anti_entropy_interval)
        if anti_entropy_interval > 0 and len(peers) > 1:
            node._ae_task = asyncio.get_running_loop().create_task(node._anti_entropy_forever())
        return node

    def app(self) -> web.Application:
        return make_app([
            *public_routes(self.driver, self.health),
            web.get("/internal/kv/{key:.*}", self._internal_get),
            web.put("/internal/kv/{key:.*}", self._internal_put),
            web.post("/internal/ae/digest", self._ae_digest),
            web.post("/internal/ae/push", self._ae_push),
        ])

    def health(self) -> dict[str, Any]:
        return {"id": self.node_id, "keys": len(self.store), "writer": self.driver.writer,
                "commits": self.store.commits}

    async def close(self) -> None:
        if self._ae_task is not None:
            self._ae_task.cancel()
            await asyncio.gather(self._ae_task, return_exceptions=True)
        await self.http.session.close()
        await self.store.close()

    # internal API
    async def _internal_get(self, request: web.Request) -> web.Response:
        record = self.store.get(check_key(request))
        if record is None:
            return json_response({"value": None, "version": None})
        return web.Response(
            body=b'{"value":%s,"version":%s}' % (record.value_json.encode(),
                                                 orjson.dumps(record.version.to_json())),
            content_type="application/json")

    async def _internal_put(self, request: web.Request) -> web.Response:
        key = check_key(request)
        body = await read_body(request)
        value, version = check_value(body), check_version(body)
        stored = await self.store.put(key, orjson.dumps(value).decode(), version)
        return json_response({"version": version_json(stored)})

    # anti-entropy
    def _shared_rows(self, peer: str) -> list[antientropy.Row]:
        return antientropy.shared_rows(self.store.items(), peer, list(self.peers), self.n)

    def _check_peer(self, body: dict[str, Any]) -> str:
        peer = body.get("from")
        if peer not in self.peers or peer == self.node_id:
            raise BadRequest(f"unknown peer {peer!r}")
        return peer

    async def _ae_digest(self, request: web.Request) -> web.Response:
        body = await read_body(request)
        peer = self._check_peer(body)
        try:
            reply = antientropy.respond(self._shared_rows(peer), body.get("digest"))
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        return json_response(reply.to_json())

    async def _ae_push(self, request: web.Request) -> web.Response:
        body = await read_body(request, AE_BODY_LIMIT)
        peer = self._check_peer(body)
        try:
            rows = antientropy.rows_from_json(body.get("records"))
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        applied = await self.store.put_many(rows)
        if applied:
            log.info("anti-entropy: %d records pushed by %s applied", applied, peer)
        return json_response({"applied": applied})

    async def _anti_entropy_forever(self) -> None:
        others = [peer for peer in self.peers if peer != self.node_id]
        rng = random.Random()
        while True:
            wait, peer = antientropy.next_exchange(self.anti_entropy_interval, others, rng)
            await asyncio.sleep(wait)
            try:
                await self.exchange_with(peer)
            except Unreachable:
                pass  # the transport logs a peer going down once
            except (ValueError, OSError) as exc:
                log.warning("anti-entropy with %s failed: %s", peer, exc)

    async def exchange_with(self, peer: str) -> tuple[int, int]:
        """One anti-entropy exchange; returns (records pulled, records pushed)."""
        exchange = antientropy.Exchange(self._shared_rows(peer))
        raw = await self.http.post(peer, "/internal/ae/digest",
                                   {"from": self.node_id, "digest": exchange.start()},
                                   antientropy.EXCHANGE_TIMEOUT)
        pull, push = exchange.on_reply(antientropy.DigestReply.from_json(raw))
        pulled = await self.store.put_many(pull)
        pushed = 0
        if push:
            answer = await self.http.post(peer, "/internal/ae/push", {
                "from": self.node_id, "records": antientropy.rows_to_json(push)},
                antientropy.EXCHANGE_TIMEOUT)
            pushed = int(answer.get("applied", 0)) if isinstance(answer, dict) else 0
        if pulled or pushed:
            log.info("anti-entropy with %s: pulled %d, pushed %d records", peer, pulled, pushed)
        return pulled, pushed
