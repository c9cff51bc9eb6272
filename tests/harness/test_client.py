"""Op outcome classification against a scripted HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiohttp import web

from harness.client import NodeClient
from replica.delivery import new_session


def scripted_app(received: list[str] | None = None) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        key = request.match_info["key"]
        if received is not None:
            received.append(f"{request.method} {key}")
        if key == "vanish":  # applied, then the node dies before answering
            assert request.transport is not None
            request.transport.close()
            await asyncio.sleep(0.2)
        if key == "slow":
            await asyncio.sleep(1)
        if key == "indefinite":
            return web.json_response({"error": "1 of 3 acks", "definite": False}, status=503)
        if key == "definite":
            return web.json_response({"error": "no replica", "definite": True}, status=503)
        if key == "bad":
            return web.json_response({"error": "bad key"}, status=400)
        if key == "odd-version":  # a store with its own idea of versions
            return web.json_response({"value": "1-1", "version": 17})
        if key == "broken":
            return web.Response(status=500, text="oops")
        if request.method == "PUT":
            return web.json_response({"version": [3, "n:n1:1"]})
        return web.json_response({"key": key, "value": "1-1", "version": [3, "n:n1:1"]})

    app = web.Application()
    app.router.add_route("*", "/kv/{key}", handle)
    return app


@pytest.fixture
def received() -> list[str]:
    return []


@pytest.fixture
async def base_url(received: list[str]):
    runner = web.AppRunner(scripted_app(received))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.mark.parametrize(("key", "write_type", "read_type"), [
    ("ok", "ok", "ok"),
    ("indefinite", "info", "fail"),
    ("definite", "fail", "fail"),
    ("bad", "fail", "fail"),
    ("broken", "info", "fail"),
    ("slow", "info", "fail"),
])
async def test_classification(base_url: str, key: str, write_type: str, read_type: str) -> None:
    async with new_session() as session:
        client = NodeClient(session, op_timeout=0.3)
        write = await client.write(base_url, key, "1-1")
        read = await client.read(base_url, key)
    assert write.type == write_type
    assert read.type == read_type
    if key == "ok":
        assert write.version == [3, "n:n1:1"]
        assert read.value == "1-1"
    else:
        assert write.error


async def test_refused_connection_is_a_definite_failure() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with new_session() as session:
        outcome = await NodeClient(session, 0.5).write(f"http://127.0.0.1:{port}", "k", "v")
    assert outcome.type == "fail"
    assert "connect" in outcome.error


async def test_write_cut_off_after_delivery_is_info_and_never_resent(
        base_url: str, received: list[str]) -> None:
    async with new_session() as session:
        client = NodeClient(session, op_timeout=1.0)
        assert (await client.write(base_url, "warm", "1-1")).type == "ok"  # keep-alive
        outcome = await client.write(base_url, "vanish", "1-2")
    assert outcome.type == "info"
    assert received.count("PUT vanish") == 1


async def test_a_version_not_shaped_counter_writer_is_dropped(base_url: str) -> None:
    async with new_session() as session:
        client = NodeClient(session, op_timeout=1.0)
        write = await client.write(base_url, "odd-version", "1-1")
        read = await client.read(base_url, "odd-version")
    assert write.type == read.type == "ok"
    assert write.version is None and read.version is None
    assert read.value == "1-1"
