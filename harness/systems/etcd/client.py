"""Ops through etcd's v3 JSON gateway (grpc-gateway: ``/v3/kv/range``,
``/v3/kv/put``, ``/v3/kv/txn``), keys and values base64, 64-bit numbers as
strings. A value is stored as its JSON text, so a read gives back what was
written, whatever its type.

The version is the key's ``mod_revision``, as ``[mod_revision, ""]``: etcd's
revisions order every write of the cluster, so they order a key's writes.
Classification is conservative: a write is ``fail`` only when the request
never left (refused before its headers were sent) or etcd rejected it as
malformed (HTTP 400); a timeout or any etcd error (no leader, request timed
out) is ``info``, since a proposal may still commit. A cas whose compare
failed is ``fail`` too: it changed nothing.
"""

from __future__ import annotations

import base64
from typing import Any

import aiohttp
import orjson

from harness.backends.base import Backend
from harness.client import Outcome
from harness.systems.base import SystemClient
from harness.systems.http import wait_healthy
from replica.delivery import Delivery


def _b64(value: bytes) -> str:
    return base64.b64encode(value).decode()


def _key(key: str) -> str:
    return _b64(key.encode())


def _value(value: Any) -> str:
    return _b64(orjson.dumps(value))


class EtcdClient(SystemClient):
    """One member's gateway per home node; ``serializable`` reads are local."""

    def __init__(self, backend: Backend, session: aiohttp.ClientSession, nodes: tuple[str, ...],
                 op_timeout: float, serializable: bool) -> None:
        self.session = session
        self.urls = [(node, backend.public_url(node)) for node in nodes]
        self.op_timeout = op_timeout
        self.timeout = aiohttp.ClientTimeout(total=op_timeout)
        self.serializable = serializable

    def homes(self) -> list[tuple[str, str]]:
        return self.urls

    async def ready(self, limit: float) -> None:
        await wait_healthy(self.session, [url for _, url in self.urls], limit)

    async def read(self, address: str, key: str) -> Outcome:
        body: dict[str, Any] = {"key": _key(key)}
        if self.serializable:
            body["serializable"] = True
        outcome, reply = await self._post(address, "range", body)
        if outcome is not None:
            return Outcome("fail", error=outcome.error)  # a read has no effect
        kvs = reply.get("kvs") or []
        if not kvs:
            return Outcome("ok", value=None)
        record = kvs[0]
        value = orjson.loads(base64.b64decode(record.get("value", "")) or b"null")
        return Outcome("ok", value=value, version=[int(record["mod_revision"]), ""])

    async def write(self, address: str, key: str, value: Any) -> Outcome:
        outcome, reply = await self._post(address, "put", {"key": _key(key),
                                                           "value": _value(value)})
        return outcome or Outcome("ok", version=_revision(reply))

    async def cas(self, address: str, key: str, old: Any, new: Any) -> Outcome:
        compare = ({"key": _key(key), "target": "CREATE", "result": "EQUAL",
                    "create_revision": "0"} if old is None else
                   {"key": _key(key), "target": "VALUE", "result": "EQUAL",
                    "value": _value(old)})
        body = {"compare": [compare],
                "success": [{"request_put": {"key": _key(key), "value": _value(new)}}]}
        outcome, reply = await self._post(address, "txn", body)
        if outcome is not None:
            return outcome
        if not reply.get("succeeded"):
            return Outcome("fail", error="compare failed")
        return Outcome("ok", version=_revision(reply))

    async def _post(self, url: str, method: str,
                    body: dict[str, Any]) -> tuple[Outcome | None, dict[str, Any]]:
        """The reply, or the outcome that a failed request stands for."""
        delivery = Delivery()
        try:
            async with self.session.post(f"{url}/v3/kv/{method}", json=body,
                                         timeout=self.timeout,
                                         trace_request_ctx=delivery) as response:
                payload = await response.json(content_type=None)
                if response.status == 200 and isinstance(payload, dict):
                    return None, payload
                kind = "fail" if response.status == 400 else "info"
                return Outcome(kind, error=f"HTTP {response.status}: {payload}"), {}
        except TimeoutError:
            return Outcome("info", error=f"timeout after {self.op_timeout}s"), {}
        except aiohttp.ClientConnectorError as exc:
            return Outcome("info" if delivery.sent else "fail",
                           error=f"connect failed: {exc.os_error or exc}"), {}
        except (aiohttp.ClientError, ValueError) as exc:
            return Outcome("info", error=f"{type(exc).__name__}: {exc}".strip()), {}


def _revision(reply: dict[str, Any]) -> list[Any]:
    """The revision a put or txn created: the written key's new mod_revision."""
    return [int(reply["header"]["revision"]), ""]
