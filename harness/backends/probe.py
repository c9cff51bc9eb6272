"""Is a node reachable? One bounded HTTP round trip, for checking that a fault took effect."""

from __future__ import annotations

import asyncio

PROBE_TIMEOUT_S = 0.5
_REQUEST = b"GET /health HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n"


async def health_answers(host: str, port: int, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """True when ``GET /health`` at host:port gets any HTTP status line within ``timeout``.

    Any status counts: the question is whether bytes crossed both ways, not
    whether the node is healthy (a cut link holds or drops them; it never answers).
    """
    async def exchange() -> bool:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(_REQUEST)
            await writer.drain()
            return (await reader.readline()).startswith(b"HTTP/")
        finally:
            writer.close()

    try:
        return await asyncio.wait_for(exchange(), timeout)
    except (OSError, TimeoutError):
        return False
