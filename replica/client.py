"""Client-driven fan-out: the client itself runs the quorum protocol.

It talks to every replica's internal API, exactly as a node coordinator does,
through the same sans-I/O core (``replica.protocol``) and driver.

    async with FanoutClient({"n1": "http://127.0.0.1:7001", ...}, n=3, r=2, w=2) as c:
        version = await c.write("k", "v")
        value, version = await c.read("k")
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import aiohttp

from replica.delivery import new_session
from replica.driver import QuorumDriver
from replica.transport import HttpTransport
from replica.version import Version


class FanoutClient:
    """Quorum reads and writes straight against the replicas' internal APIs.

    ``session``: reuse an aiohttp session (the client then does not close it).
    ``writer``: the writer id of this client's versions (default ``c:<uuid4>``).
    ``bugs``: protocol bug switches, as on a node (the local-version bug's
    "local counter" is the highest counter this client has seen).
    Failures raise ``replica.errors.QuorumError``.
    """

    def __init__(self, urls: dict[str, str], n: int, r: int, w: int,
                 request_timeout: float = 0.5, session: aiohttp.ClientSession | None = None,
                 writer: str | None = None, bugs: tuple[str, ...] = ()) -> None:
        if not urls:
            raise ValueError("FanoutClient needs at least one replica URL")
        self._own_session = session is None
        self._session = session or new_session()
        self.writer = writer or f"c:{uuid.uuid4()}"
        self._driver = QuorumDriver(
            HttpTransport(urls, self._session, request_timeout), urls, n=n, r=r, w=w,
            writer=self.writer, request_timeout=request_timeout, bugs=bugs,
            clock_micros=lambda: int(time.time() * 1_000_000))

    async def read(self, key: str) -> tuple[Any, Version | None]:
        """The key's value and version (None, None if never written)."""
        return await self._driver.read(key)

    async def write(self, key: str, value: Any) -> Version:
        """Write `value`; returns the version it was stored under."""
        return await self._driver.write(key, value)

    async def close(self) -> None:
        if self._own_session:
            await self._session.close()

    async def __aenter__(self) -> FanoutClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
