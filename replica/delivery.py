"""HTTP sessions that know whether a failed request may have been delivered.

aiohttp resends an "idempotent" request (PUT included) once, on a new
connection, when a kept-alive connection drops mid-request. For a quorum write
that is wrong twice over: the write may be applied twice, and when the resend
then finds the node gone, the error says "connection refused" although the
first attempt reached the node. So resends are switched off, and each request
records whether its headers went out: only a request that never sent them
certainly had no effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import aiohttp
import orjson


@dataclass
class Delivery:
    """Pass as ``trace_request_ctx``; ``sent`` turns True once headers are sent."""

    sent: bool = False


async def _headers_sent(session: aiohttp.ClientSession, context: SimpleNamespace,
                        params: Any) -> None:
    delivery = context.trace_request_ctx
    if isinstance(delivery, Delivery):
        delivery.sent = True


def _json_dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def new_session() -> aiohttp.ClientSession:
    """A keep-alive session with no connection limit, no automatic resend, and
    delivery tracking (timeouts are per request)."""
    trace = aiohttp.TraceConfig()
    trace.on_request_headers_sent.append(_headers_sent)
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=None),
        json_serialize=_json_dumps, trace_configs=[trace])
    # No public switch exists (aiohttp issue 10790); the attribute is what
    # aiohttp's own test client sets.
    session._retry_connection = False
    return session
