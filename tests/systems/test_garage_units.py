"""The garage system's parts that need no garage: S3 outcome classification
against a small S3 stand-in, the offset file's format, the run's secrets, the
build's cache key and the one line a missing cargo gives."""

from __future__ import annotations

import asyncio
import os
import re
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from system_helpers import quorumlab

from harness.backends.docker.faketime import faketime_offset
from harness.client import Outcome
from harness.systems.base import SystemNotReady
from harness.systems.garage import binary
from harness.systems.garage.client import GarageClient, S3Credentials
from harness.systems.garage.cluster import run_secrets
from replica.delivery import new_session

NO_SUCH_KEY = (b"<?xml version='1.0'?><Error><Code>NoSuchKey</Code>"
               b"<Message>Key not found</Message></Error>")
CREDENTIALS = S3Credentials("GK" + "0" * 24, "s" * 64, "quorumlab")


def s3_standin() -> web.Application:
    """Answers by key: what a Garage node says in each situation."""
    stored: dict[str, bytes] = {}

    async def handle(request: web.Request) -> web.StreamResponse:
        assert request.headers["Authorization"].startswith(
            f"AWS4-HMAC-SHA256 Credential={CREDENTIALS.access_key}/")
        assert request.match_info["bucket"] == CREDENTIALS.bucket
        key = request.match_info["key"]
        if key == "quorum-lost":
            return web.Response(status=500, body=b"<Error><Code>InternalError</Code>"
                                b"<Message>Could not reach quorum of 2</Message></Error>")
        if key == "denied":
            return web.Response(status=403, body=b"<Error><Code>AccessDenied</Code></Error>")
        if key == "slow":
            await asyncio.sleep(2)
        if key == "cut":
            assert request.transport is not None
            request.transport.close()  # the request arrived; no answer comes back
            await asyncio.sleep(1)
        if request.method == "PUT":
            stored[key] = await request.read()
            return web.Response(status=200)
        if key in stored:
            return web.Response(body=stored[key])
        return web.Response(status=404, body=NO_SUCH_KEY)

    app = web.Application()
    app.router.add_route("*", "/{bucket}/{key}", handle)
    return app


@pytest.fixture
async def s3_url() -> AsyncIterator[str]:
    runner = web.AppRunner(s3_standin())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_s3_outcomes_follow_the_classification_rules(s3_url: str) -> None:
    async with new_session() as session:
        client = GarageClient(session, [("n1", s3_url)], CREDENTIALS, op_timeout=0.5)
        await client.ready(5)
        assert await client.read(s3_url, "k") == Outcome("ok", value=None)  # NoSuchKey
        assert (await client.write(s3_url, "k", {"v": "1-1"})).type == "ok"
        assert (await client.read(s3_url, "k")).value == {"v": "1-1"}
        # A 5xx after sending may have been applied on fewer than a quorum: info.
        lost = await client.write(s3_url, "quorum-lost", "x")
        assert lost.type == "info" and "500" in (lost.error or "")
        assert (await client.write(s3_url, "denied", "x")).type == "fail"  # rejected: 4xx
        assert (await client.write(s3_url, "slow", "x")).type == "info"  # timeout
        assert (await client.read(s3_url, "slow")).type == "fail"  # a read has no effect
        assert (await client.write(s3_url, "cut", "x")).type == "info"  # sent, no answer
        refused = f"http://127.0.0.1:{closed_port()}"
        assert (await client.write(refused, "k", "x")).type == "fail"  # never sent


async def test_ready_names_the_nodes_that_do_not_serve_the_bucket(s3_url: str) -> None:
    refused = f"http://127.0.0.1:{closed_port()}"
    async with new_session() as session:
        client = GarageClient(session, [("n1", s3_url), ("n2", refused)], CREDENTIALS, 0.5)
        with pytest.raises(SystemNotReady, match=r"n2 \(ClientConnectorError"):
            await client.ready(0.5)


def test_libfaketime_offsets_are_signed_seconds() -> None:
    # A bare number reads as an absolute date to libfaketime; it needs the sign.
    assert faketime_offset(1.5) == "+1.500\n"
    assert faketime_offset(-0.25) == "-0.250\n"
    assert faketime_offset(0.0) == "+0.000\n"


def test_run_secrets_have_garage_formats_and_differ_per_run() -> None:
    secret, credentials = run_secrets("ql-a")
    assert re.fullmatch(r"[0-9a-f]{64}", secret)
    assert re.fullmatch(r"GK[0-9a-f]{24}", credentials.access_key)
    assert re.fullmatch(r"[0-9a-f]{64}", credentials.secret_key)
    assert run_secrets("ql-a") == (secret, credentials)  # a restarted node gets the same
    assert run_secrets("ql-b")[0] != secret


def test_a_new_pin_or_new_flags_is_a_new_build(monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    monkeypatch.setenv("QUORUMLAB_CACHE", str(tmp_path))
    keys = {binary.build_key(), binary.build_key("9.9.9"),
            binary.build_key(flags=(*binary.CARGO_FLAGS, "--features", "lmdb"))}
    assert len(keys) == 3
    assert binary.binary_path().is_relative_to(tmp_path)
    assert binary.built_binary() is None
    path = binary.binary_path()
    path.parent.mkdir(parents=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    assert binary.built_binary() == path  # reused: no cargo is asked


def test_image_build_without_cargo_says_so_in_one_line(tmp_path: Path) -> None:
    pytest.importorskip("docker")
    env_path = os.pathsep.join(p for p in ("/usr/sbin", "/usr/bin", "/sbin", "/bin")
                               if not (Path(p) / "cargo").exists())
    proc = quorumlab("image", "build", "--system", "garage",
                     env={"PATH": env_path, "HOME": str(tmp_path),
                          "QUORUMLAB_CACHE": str(tmp_path / "cache")})
    if "Docker is not usable" in proc.stderr:
        pytest.skip("no Docker daemon answers")
    assert proc.returncode == 255, proc.stderr
    assert proc.stderr.count("\n") == 1 and "cargo is not installed" in proc.stderr
