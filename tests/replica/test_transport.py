"""HTTP transport: how a failed request is classified (may it have landed?)."""

from __future__ import annotations

import asyncio

import pytest
from replica_cluster import free_ports

from replica.delivery import new_session
from replica.protocol import Put
from replica.transport import HttpTransport, Unreachable
from replica.version import Version

PUT = Put("k", "v", Version(1, "w"))


async def test_refused_connection_was_not_delivered() -> None:
    port = free_ports(1)[0]
    async with new_session() as session:
        transport = HttpTransport({"a": f"http://127.0.0.1:{port}"}, session, 1.0)
        with pytest.raises(Unreachable) as info:
            await transport.request("a", PUT)
    assert not info.value.delivered


@pytest.mark.parametrize("behaviour", ["hang", "close"])
async def test_silence_or_reset_after_the_request_may_have_landed(behaviour: str) -> None:
    received: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.read(1000))
        if behaviour == "hang":
            await asyncio.sleep(2)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with new_session() as session:
            transport = HttpTransport({"a": f"http://127.0.0.1:{port}"}, session, 0.3)
            with pytest.raises(Unreachable) as info:
                await transport.request("a", PUT)
    finally:
        server.close()
    assert info.value.delivered
    assert received and received[0].startswith(b"PUT /internal/kv/k")


async def test_a_4xx_is_a_refusal() -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1000)
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 2\r\n\r\n{}")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with new_session() as session:
            transport = HttpTransport({"a": f"http://127.0.0.1:{port}"}, session, 1.0)
            with pytest.raises(Unreachable) as info:
                await transport.request("a", PUT)
    finally:
        server.close()
    assert not info.value.delivered and "HTTP 400" in info.value.reason
