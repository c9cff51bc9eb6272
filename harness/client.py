"""One operation against a node's public API (or a fan-out agent), classified.

The classification follows DESIGN.md: a write is `fail` only when it certainly
did not happen (rejected as bad input, refused before anything was sent, or a
503 that says "definite"); every other failed write is `info`, since a replica
may hold it and gossip will spread it. A read has no effect, so any failed read
is `fail`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from replica.delivery import Delivery


@dataclass(frozen=True, slots=True)
class Outcome:
    """The completion of one op: ok, fail or info, with what the store said."""

    type: str
    value: Any = None
    version: list[Any] | None = None
    error: str | None = None


class NodeClient:
    """Issues reads and writes over HTTP with a per-op timeout. The session must
    come from ``replica.delivery.new_session`` (no silent resends)."""

    def __init__(self, session: aiohttp.ClientSession, op_timeout: float) -> None:
        self.session = session
        self.timeout = aiohttp.ClientTimeout(total=op_timeout)
        self.op_timeout = op_timeout

    async def read(self, base_url: str, key: str) -> Outcome:
        outcome = await self._request("GET", f"{base_url}/kv/{quote(key, safe='')}", None)
        if outcome.type == "info":
            return Outcome("fail", error=outcome.error)
        return outcome

    async def write(self, base_url: str, key: str, value: Any) -> Outcome:
        return await self._request("PUT", f"{base_url}/kv/{quote(key, safe='')}", value)

    async def _request(self, method: str, url: str, value: Any) -> Outcome:
        body = None if method == "GET" else {"value": value}
        delivery = Delivery()
        try:
            async with self.session.request(method, url, json=body, timeout=self.timeout,
                                            trace_request_ctx=delivery) as response:
                payload = await response.json(content_type=None)
                return _classify(response.status, payload, method)
        except TimeoutError:
            return Outcome("info", error=f"timeout after {self.op_timeout}s")
        except aiohttp.ClientConnectorError as exc:
            # Certainly without effect only if nothing was ever sent.
            return Outcome("info" if delivery.sent else "fail",
                           error=f"connect failed: {exc.os_error or exc}")
        except (aiohttp.ClientError, ValueError) as exc:
            return Outcome("info", error=f"{type(exc).__name__}: {exc}".strip())


def _classify(status: int, payload: Any, method: str) -> Outcome:
    body = payload if isinstance(payload, dict) else {}
    if status == 200:
        return Outcome("ok", value=body.get("value") if method == "GET" else None,
                       version=store_version(body.get("version")))
    error = f"HTTP {status}: {body.get('error', payload)}"
    if status == 503:
        return Outcome("fail" if body.get("definite") is True else "info", error=error)
    if 400 <= status < 500:
        return Outcome("fail", error=error)
    return Outcome("info", error=error)


def store_version(raw: Any) -> list[Any] | None:
    """The store's version if it has DESIGN.md's [counter, writer] shape; a store
    that reports something else is treated as one that reports no versions."""
    if (isinstance(raw, list) and len(raw) == 2 and isinstance(raw[0], int)
            and not isinstance(raw[0], bool) and isinstance(raw[1], str)):
        return raw
    return None
