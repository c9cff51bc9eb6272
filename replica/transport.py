"""Reaching replicas over HTTP: the internal API, as used by coordinators and clients.

Failures are classified by what they say about delivery: a refused connection
means the request never reached the replica (so a write there certainly did not
happen); a timeout or a reset might have been delivered.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

import aiohttp
import orjson

from replica.delivery import Delivery
from replica.protocol import Get, Put
from replica.version import Version

log = logging.getLogger("replica.transport")


class Unreachable(Exception):
    """A request to a replica failed; ``delivered`` as in ``protocol.NoReply``."""

    def __init__(self, reason: str, delivered: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.delivered = delivered


class Transport(Protocol):
    """Carries protocol messages to replicas."""

    async def request(self, node: str, msg: Get | Put) -> tuple[Any, Version | None]:
        """Answer (value, version): the copy for Get, (None, stored version) for Put.
        Raises Unreachable."""
        ...


class HttpTransport:
    """Talks to each replica's internal API at the URL it was given (and only there)."""

    def __init__(self, urls: dict[str, str], session: aiohttp.ClientSession,
                 request_timeout: float) -> None:
        self.urls = {node: url.rstrip("/") for node, url in urls.items()}
        self.session = session
        self.timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._down: set[str] = set()

    async def request(self, node: str, msg: Get | Put) -> tuple[Any, Version | None]:
        url = f"{self.urls[node]}/internal/kv/{msg.key}"
        if isinstance(msg, Get):
            body = await self.call(node, "GET", url)
            return body.get("value"), _version(body.get("version"))
        payload = {"value": msg.value, "version": msg.version.to_json()}
        body = await self.call(node, "PUT", url, payload)
        return None, _version(body.get("version"))

    async def post(self, node: str, path: str, payload: Any, timeout: float) -> Any:
        """POST JSON to another endpoint of `node` (anti-entropy); same errors."""
        return await self.call(node, "POST", f"{self.urls[node]}{path}", payload,
                               aiohttp.ClientTimeout(total=timeout))

    async def call(self, node: str, method: str, url: str, payload: Any = None,
                   timeout: aiohttp.ClientTimeout | None = None) -> Any:
        delivery = Delivery()
        try:
            async with self.session.request(method, url, json=payload,
                                            timeout=timeout or self.timeout,
                                            trace_request_ctx=delivery) as resp:
                raw = await resp.read()
                if resp.status != 200:
                    # A 4xx is a refusal (nothing applied); a 5xx might have been.
                    raise Unreachable(f"HTTP {resp.status}: {raw[:200].decode(errors='replace')}",
                                      delivered=resp.status >= 500)
                body = orjson.loads(raw)
        except aiohttp.ClientConnectorError as exc:
            self._mark_down(node, f"connection failed: {exc.os_error}")
            raise Unreachable("connection refused", delivered=delivery.sent) from exc
        except TimeoutError as exc:
            self._mark_down(node, "timed out")
            raise Unreachable("timed out", delivered=True) from exc
        except (aiohttp.ClientError, orjson.JSONDecodeError) as exc:
            raise Unreachable(f"{type(exc).__name__}: {exc}", delivered=True) from exc
        if node in self._down:
            self._down.discard(node)
            log.info("peer %s back", node)
        return body

    def _mark_down(self, node: str, why: str) -> None:
        if node not in self._down:
            self._down.add(node)
            log.info("peer %s unreachable: %s", node, why)


def _version(raw: Any) -> Version | None:
    if raw is None:
        return None
    try:
        return Version.from_json(raw)
    except ValueError as exc:
        raise Unreachable(f"bad version in reply: {raw!r}", delivered=True) from exc
