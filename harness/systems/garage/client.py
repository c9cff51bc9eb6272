"""Ops as S3 requests: GET and PUT of one small object per key, in one bucket.

botocore signs each request (SigV4, the part of S3 worth a library); the
harness's own aiohttp session sends it. That session never resends a request
silently and records whether a request's headers went out (replica/delivery.py),
which is what classification needs: aiobotocore's session would resend a PUT
once on a dropped kept-alive connection, and a write applied twice, the second
time after someone else's write, reads as an anomaly Garage did not commit.

Classification (DESIGN.md): a PUT is ``ok`` on 200; ``fail`` when it certainly
did nothing: refused before its headers were sent, or answered with a 4xx
(the request was rejected before it was applied: bad signature, no such
bucket); ``info`` otherwise, a 5xx above all ("could not reach quorum": the
write may sit on fewer replicas than the quorum and spread later), a timeout
or a connection lost after sending. A GET is ``ok`` with the value, ``ok`` with
``None`` for NoSuchKey (the store said the key was never written), else ``fail``
(a read has no effect). S3 reports no version a client can trust (an ETag is
the content's hash), so reads and writes carry none and the linearizability
checker decides.
"""

from __future__ import annotations

import asyncio
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from yarl import URL

from harness.client import Outcome
from harness.systems.base import SystemClient, SystemNotReady
from replica.delivery import Delivery

REGION = "garage"  # docker/garage/quorumlab-garage: s3_region


@dataclass(frozen=True)
class S3Credentials:
    access_key: str
    secret_key: str
    bucket: str


@dataclass(frozen=True)
class S3Reply:
    status: int
    body: bytes
    headers: dict[str, str]

    @property
    def code(self) -> str:
        """The S3 error code (``NoSuchKey``), or "" when the body has none."""
        try:
            found = ET.fromstring(self.body).find("Code")
        except ET.ParseError:
            return ""
        return found.text or "" if found is not None else ""


class GarageClient(SystemClient):
    """One node's S3 endpoint per home node."""

    def __init__(self, session: aiohttp.ClientSession, urls: list[tuple[str, str]],
                 credentials: S3Credentials, op_timeout: float) -> None:
        from botocore.credentials import Credentials

        self.session = session
        self.urls = urls
        self.credentials = credentials
        self._signing = Credentials(credentials.access_key, credentials.secret_key)
        self.op_timeout = op_timeout
        self.timeout = aiohttp.ClientTimeout(total=op_timeout)

    def homes(self) -> list[tuple[str, str]]:
        return self.urls

    async def ready(self, limit: float) -> None:
        """Every node serves the bucket: a GET of a key no one writes answers
        NoSuchKey, which needs the layout live, the bucket and key known there
        and a read quorum reachable."""
        deadline = time.monotonic() + limit
        pending = dict(self.urls)
        last: dict[str, str] = {}
        while pending:
            for node, url in list(pending.items()):
                try:
                    reply = await self.request("GET", url, "quorumlab-ready-probe")
                except (aiohttp.ClientError, TimeoutError) as exc:
                    last[node] = f"{type(exc).__name__}: {exc}".strip()
                    continue
                if reply.status == 404 and reply.code == "NoSuchKey":
                    del pending[node]
                else:
                    last[node] = f"HTTP {reply.status} {reply.code}".strip()
            if pending and time.monotonic() > deadline:
                raise SystemNotReady(
                    f"garage nodes not serving the bucket after {limit:.0f}s: "
                    + ", ".join(f"{node} ({last.get(node, '?')})" for node in pending))
            if pending:
                await asyncio.sleep(0.25)

    async def read(self, address: str, key: str) -> Outcome:
        try:
            reply = await self.request("GET", address, key)
        except TimeoutError:
            return Outcome("fail", error=f"timeout after {self.op_timeout}s")
        except aiohttp.ClientError as exc:
            return Outcome("fail", error=f"{type(exc).__name__}: {exc}".strip())
        if reply.status == 200:
            try:
                return Outcome("ok", value=orjson.loads(reply.body))
            except orjson.JSONDecodeError:
                return Outcome("fail", error=f"not JSON: {reply.body[:80]!r}")
        if reply.status == 404 and reply.code == "NoSuchKey":
            return Outcome("ok", value=None)
        return Outcome("fail", error=_error(reply))

    async def write(self, address: str, key: str, value: Any) -> Outcome:
        delivery = Delivery()
        try:
            reply = await self.request("PUT", address, key, orjson.dumps(value), delivery)
        except TimeoutError:
            return Outcome("info", error=f"timeout after {self.op_timeout}s")
        except aiohttp.ClientConnectorError as exc:
            return Outcome("info" if delivery.sent else "fail",
                           error=f"connect failed: {exc.os_error or exc}")
        except aiohttp.ClientError as exc:
            return Outcome("info" if delivery.sent else "fail",
                           error=f"{type(exc).__name__}: {exc}".strip())
        if reply.status == 200:
            return Outcome("ok")
        return Outcome("fail" if 400 <= reply.status < 500 else "info", error=_error(reply))

    async def request(self, method: str, url: str, key: str, body: bytes = b"",
                      delivery: Delivery | None = None) -> S3Reply:
        """One signed request for ``key``'s object; raises aiohttp's errors and
        TimeoutError after the op timeout."""
        from botocore.auth import S3SigV4Auth
        from botocore.awsrequest import AWSRequest

        target = f"{url}/{self.credentials.bucket}/{key}"
        signed = AWSRequest(method=method, url=target, data=body,
                            headers={"Content-Type": "application/json"} if body else {})
        S3SigV4Auth(self._signing, "s3", REGION).add_auth(signed)
        async with self.session.request(
                method, URL(target, encoded=True), data=body or None,
                headers=dict(signed.headers.items()), timeout=self.timeout,
                trace_request_ctx=delivery or Delivery()) as response:
            return S3Reply(response.status, await response.read(), dict(response.headers))


def _error(reply: S3Reply) -> str:
    return f"HTTP {reply.status} {reply.code or reply.body[:80]!r}"
