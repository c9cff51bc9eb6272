"""Link proxies: forward, blackhole (hang, not refuse), heal, one-way drops, delay."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from harness.backends.local.proxy import _EOF, LOCALHOST, LinkProxies


class Echo:
    """A target that echoes each line and remembers what it received."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, LOCALHOST, 0)
        return self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                self.received.append(line)
                writer.write(line)
                await writer.drain()
        finally:
            writer.close()


@pytest.fixture
async def link() -> AsyncIterator[tuple[LinkProxies, int, Echo]]:
    echo = Echo()
    port = await echo.start()
    proxies = LinkProxies(seed=1)
    proxy_port = await proxies.add("a", "b", (LOCALHOST, port))
    try:
        yield proxies, proxy_port, echo
    finally:
        await proxies.close()
        assert echo.server is not None
        echo.server.close()


async def roundtrip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    line: bytes, timeout: float = 1.0) -> bytes:
    writer.write(line)
    return await asyncio.wait_for(reader.readline(), timeout)


async def test_forwards_both_ways(link) -> None:
    _, port, _ = link
    reader, writer = await asyncio.open_connection(LOCALHOST, port)
    for i in range(20):
        assert await roundtrip(reader, writer, b"x%d\n" % i) == b"x%d\n" % i
    writer.close()


async def test_partition_stalls_existing_and_new_connections_until_heal(link) -> None:
    proxies, port, echo = link
    old_r, old_w = await asyncio.open_connection(LOCALHOST, port)
    assert await roundtrip(old_r, old_w, b"before\n") == b"before\n"

    await proxies.partition({"b": {"a"}, "a": {"b"}})
    with pytest.raises(TimeoutError):
        await roundtrip(old_r, old_w, b"held\n", timeout=0.3)
    # a new connection is not refused: it connects, then nothing comes back
    new_r, new_w = await asyncio.wait_for(asyncio.open_connection(LOCALHOST, port), 0.5)
    with pytest.raises(TimeoutError):
        await roundtrip(new_r, new_w, b"new\n", timeout=0.3)
    assert b"held\n" not in echo.received and b"new\n" not in echo.received

    await proxies.heal()  # held bytes arrive late, in order, as retransmissions would
    assert await asyncio.wait_for(old_r.readline(), 1) == b"held\n"
    assert await asyncio.wait_for(new_r.readline(), 1) == b"new\n"
    assert await roundtrip(old_r, old_w, b"after\n") == b"after\n"
    old_w.close()
    new_w.close()


async def test_a_connection_given_up_during_a_cut_is_not_held(link) -> None:
    """Every op opens a connection to a cut peer and closes it at its timeout:
    the proxy must not keep a socket per attempt until the heal."""
    proxies, port, echo = link
    await proxies.partition({"b": {"a"}, "a": {"b"}})
    (connection_link,) = proxies.links.values()
    for i in range(50):
        _, writer = await asyncio.open_connection(LOCALHOST, port)
        writer.write(b"given up %d\n" % i)
        writer.close()
        await writer.wait_closed()
    for _ in range(100):  # the proxy sees each close within a loop turn or two
        if not connection_link.connections:
            break
        await asyncio.sleep(0.01)
    assert connection_link.connections == set()
    await proxies.heal()
    reader, writer = await asyncio.open_connection(LOCALHOST, port)
    assert await roundtrip(reader, writer, b"after\n") == b"after\n"
    assert echo.received == [b"after\n"], "nothing of the abandoned attempts arrives"
    writer.close()


async def test_unrelated_grudge_leaves_link_open(link) -> None:
    proxies, port, _ = link
    await proxies.partition({"c": {"a", "b"}})
    reader, writer = await asyncio.open_connection(LOCALHOST, port)
    assert await roundtrip(reader, writer, b"ok\n") == b"ok\n"
    writer.close()


async def test_one_way_drop_of_replies_lets_requests_through(link) -> None:
    proxies, port, echo = link
    reader, writer = await asyncio.open_connection(LOCALHOST, port)
    assert await roundtrip(reader, writer, b"1\n") == b"1\n"
    await proxies.partition({"a": {"b"}})  # a drops what b sends: requests arrive, replies do not
    with pytest.raises(TimeoutError):
        await roundtrip(reader, writer, b"2\n", timeout=0.3)
    assert echo.received[-1] == b"2\n"
    await proxies.partition({"b": {"a"}})  # now the other way: requests are held
    writer.write(b"3\n")
    await asyncio.sleep(0.2)
    assert b"3\n" not in echo.received
    await proxies.heal()
    assert await asyncio.wait_for(reader.readline(), 1) == b"2\n"
    assert await asyncio.wait_for(reader.readline(), 1) == b"3\n"
    writer.close()


async def test_delay_and_loss_slow_the_round_trip(link) -> None:
    proxies, port, _ = link
    reader, writer = await asyncio.open_connection(LOCALHOST, port)
    proxies.set_delay(0.05)
    started = time.monotonic()
    assert await roundtrip(reader, writer, b"slow\n") == b"slow\n"
    assert time.monotonic() - started >= 0.1  # delayed each way
    proxies.set_delay(0.0, loss=1.0)
    started = time.monotonic()
    assert await roundtrip(reader, writer, b"lossy\n") == b"lossy\n"
    assert time.monotonic() - started >= 0.4  # one retransmission each way
    proxies.clear_delay()
    started = time.monotonic()
    assert await roundtrip(reader, writer, b"fast\n") == b"fast\n"
    assert time.monotonic() - started < 0.1
    writer.close()


async def test_target_down_closes_instead_of_hanging() -> None:
    proxies = LinkProxies()
    # a port nobody listens on: bind one and close it
    server = await asyncio.start_server(lambda r, w: None, LOCALHOST, 0)
    dead_port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    port = await proxies.add("a", "b", (LOCALHOST, dead_port))
    try:
        reader, writer = await asyncio.open_connection(LOCALHOST, port)
        writer.write(b"hello\n")
        assert await asyncio.wait_for(reader.read(), 1) == b""
    except ConnectionResetError:
        pass  # also fine: the initiator saw a reset
    finally:
        await proxies.close()


async def test_close_stops_listening_and_is_idempotent(link) -> None:
    proxies, port, _ = link
    reader, writer = await asyncio.open_connection(LOCALHOST, port)
    await proxies.close()
    await proxies.close()
    with pytest.raises(OSError):
        await asyncio.open_connection(LOCALHOST, port)
    assert await asyncio.wait_for(reader.read(), 1) == b""
    writer.close()


async def test_dead_target_refuses_unless_the_link_is_cut(link) -> None:
    proxies, port, _ = link
    await proxies.set_target_up("b", False)
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection(LOCALHOST, port)
    await proxies.partition({"a": {"b"}})  # a lost SYN-ACK hangs, it is not a refusal
    reader, writer = await asyncio.wait_for(asyncio.open_connection(LOCALHOST, port), 0.5)
    with pytest.raises(TimeoutError):
        await roundtrip(reader, writer, b"x\n", timeout=0.2)
    await proxies.set_target_up("b", True)
    await proxies.heal()
    assert await asyncio.wait_for(reader.readline(), 1) == b"x\n"
    writer.close()


async def test_eof_to_a_vanished_peer_aborts_instead_of_raising(link) -> None:
    """A heal may deliver a held EOF to a socket whose reset the loop has not
    reported yet: shutdown() then fails, and that must not escape heal()."""
    proxies, port, _ = link
    reader, writer = await asyncio.open_connection(LOCALHOST, port)
    assert await roundtrip(reader, writer, b"hi\n") == b"hi\n"
    conn = next(iter(proxies.links[("a", "b")].connections))
    transport = conn.down.transport
    aborted = []

    def failing_write_eof() -> None:
        raise OSError(107, "Transport endpoint is not connected")

    transport.write_eof = failing_write_eof
    original_abort = transport.abort
    transport.abort = lambda: (aborted.append(True), original_abort())
    await proxies.partition({"a": {"b"}})
    conn.backward.push(_EOF)  # the target shut down its writing half, held by the cut
    await proxies.heal()
    assert aborted == [True]
    writer.close()
