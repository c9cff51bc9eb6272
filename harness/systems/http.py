"""The ``http`` system: the replica HTTP API of DESIGN.md (the reference replica,
or a ``--replica-cmd`` implementation of the same API). The default system.

Its nodes expose each replica's own copy (``/internal/kv``), so its final
phase can wait for convergence and read every copy, which is what the
durability checker needs; other systems read through the client only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import aiohttp

from harness.backends import create_backend
from harness.backends.base import Backend, ClusterSpec
from harness.client import NodeClient, Outcome
from harness.final_phase import final_reads, quiesce
from harness.recorder import Recorder
from harness.systems.base import System, SystemClient, SystemNotReady

if TYPE_CHECKING:
    from harness.config import RunConfig


async def wait_healthy(session: aiohttp.ClientSession, urls: list[str], limit: float) -> None:
    """Wait until every URL answers GET /health with 200, or fail after `limit` s."""
    deadline = time.monotonic() + limit
    pending = list(urls)
    while pending:
        still = []
        for url in pending:
            try:
                async with session.get(f"{url}/health",
                                       timeout=aiohttp.ClientTimeout(total=1)) as response:
                    if response.status != 200:
                        still.append(url)
            except (aiohttp.ClientError, TimeoutError):
                still.append(url)
        pending = still
        if pending and time.monotonic() > deadline:
            raise SystemNotReady(f"nodes not healthy after {limit:.0f}s: {', '.join(pending)}")
        if pending:
            await asyncio.sleep(0.1)


class HttpClient(SystemClient):
    """Ops through each node's public API (or its fan-out agent in client mode)."""

    def __init__(self, backend: Backend, session: aiohttp.ClientSession,
                 config: RunConfig) -> None:
        self.backend = backend
        self.session = session
        self.config = config
        self.nodes = NodeClient(session, config.op_timeout)
        self.public = {node: backend.public_url(node) for node in config.node_ids}

    def homes(self) -> list[tuple[str, str]]:
        return [(node, self.backend.client_url(node)) for node in self.config.node_ids]

    async def ready(self, limit: float) -> None:
        urls = list(self.public.values()) + [url for _, url in self.homes()]
        await wait_healthy(self.session, list(dict.fromkeys(urls)), limit)

    async def read(self, address: str, key: str) -> Outcome:
        return await self.nodes.read(address, key)

    async def write(self, address: str, key: str, value: Any) -> Outcome:
        return await self.nodes.write(address, key, value)

    async def final(self, keys: Sequence[str], recorder: Recorder) -> None:
        config = self.config
        await quiesce(self.session, self.public, keys, config.replication, recorder,
                      config.quiesce_timeout, config.op_timeout)
        await final_reads(self.session, self.public, [url for _, url in self.homes()], keys,
                          config.replication, recorder, self.nodes, config.op_timeout)


class HttpSystem(System):
    name = "http"
    help = "the replica HTTP API (the reference replica, or --replica-cmd)"
    backends = ("docker", "local")

    def create_backend(self, backend: str, spec: ClusterSpec) -> Backend:
        return create_backend(backend, spec)

    def client(self, backend: Backend, session: aiohttp.ClientSession,
               config: RunConfig) -> SystemClient:
        return HttpClient(backend, session, config)
