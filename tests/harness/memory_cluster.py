"""An in-process stand-in cluster for runner tests: one linearizable register
store served on 127.0.0.1 for every "node" (no processes, no faults)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from harness.backends.base import Backend, ClusterSpec
from nemesis.capabilities import ClockControl, Grudge, NetworkFaults, ProcessControl


class MemoryBackend(Backend):
    """Every node is the same in-memory store; faults are only counted."""

    CAPABILITIES = frozenset({ProcessControl, NetworkFaults, ClockControl})

    def __init__(self, spec: ClusterSpec, lose_writes: bool = False) -> None:
        super().__init__(spec)
        self.store: dict[str, tuple[Any, list[Any]]] = {}
        self.counter = 0
        self.lose_writes = lose_writes
        self.calls: list[str] = []
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.torn_down = 0

    async def setup(self) -> None:
        app = web.Application()
        app.router.add_get("/health", self._health)
        app.router.add_get("/kv/{key}", self._get)
        app.router.add_put("/kv/{key}", self._put)
        app.router.add_get("/internal/kv/{key}", self._get)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"

    async def _health(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def _get(self, request: web.Request) -> web.Response:
        value, version = self.store.get(request.match_info["key"], (None, None))
        return web.json_response({"value": value, "version": version})

    async def _put(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.counter += 1
        version = [self.counter, "mem"]
        if not self.lose_writes:
            self.store[request.match_info["key"]] = (body["value"], version)
        return web.json_response({"version": version})

    async def teardown(self) -> None:
        self.torn_down += 1
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def public_url(self, node: str) -> str:
        return self.url

    def client_url(self, home: str) -> str:
        return self.url

    async def _count(self, name: str) -> None:
        self.calls.append(name)

    async def kill(self, node: str) -> None:
        await self._count(f"kill {node}")

    async def start(self, node: str) -> None:
        await self._count(f"start {node}")

    async def pause(self, node: str) -> None:
        await self._count(f"pause {node}")

    async def resume(self, node: str) -> None:
        await self._count(f"resume {node}")

    async def partition(self, grudge: Grudge) -> None:
        await self._count("partition")

    async def heal(self) -> None:
        await self._count("heal")

    async def set_link_delay(self, delay_ms: float, jitter_ms: float = 0.0,
                             loss: float = 0.0) -> None:
        await self._count("delay")

    async def clear_link_delay(self) -> None:
        await self._count("clear-delay")

    async def skew_clock(self, node: str, offset_s: float) -> None:
        await self._count(f"skew {node}")
