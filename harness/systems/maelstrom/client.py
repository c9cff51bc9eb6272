"""lin-kv ops as Maelstrom messages, and their replies as outcomes.

Error codes follow Maelstrom's table (DESIGN.md): a definite error means the
op did not happen (``fail``), an indefinite one or no reply at all means it
may have (``info``). A read of a key that does not exist (code 20) is an
``ok`` read of ``null``: in our histories a never-written key reads as null.
"""

from __future__ import annotations

from typing import Any

from harness.client import Outcome
from harness.systems.base import SystemClient, SystemNotReady
from harness.systems.maelstrom.network import MaelstromNetwork

DEFINITE_CODES = frozenset({1, 10, 11, 12, 14, 20, 21, 22, 30})
KEY_DOES_NOT_EXIST = 20


class MaelstromClient(SystemClient):
    """The clients c1..cN, one per home node (concurrent ops differ by msg_id)."""

    def __init__(self, network: MaelstromNetwork, op_timeout: float) -> None:
        self.network = network
        self.op_timeout = op_timeout
        self.nodes = list(network.spec.nodes)
        self.ops = 0

    def homes(self) -> list[tuple[str, str]]:
        return [(node, node) for node in self.nodes]

    async def ready(self, limit: float) -> None:
        missing = await self.network.wait_ready(limit)
        if missing:
            raise SystemNotReady(f"no init_ok after {limit:.0f}s from {', '.join(missing)} "
                                 "(see nodes/<id>.log)")

    async def read(self, address: str, key: str) -> Outcome:
        reply = await self._call(address, {"type": "read", "key": key})
        if reply.get("type") == "read_ok":
            return Outcome("ok", value=reply.get("value"))
        if reply.get("type") == "error" and reply.get("code") == KEY_DOES_NOT_EXIST:
            return Outcome("ok", value=None)
        return Outcome("fail", error=_describe(reply))  # a read has no effect

    async def write(self, address: str, key: str, value: Any) -> Outcome:
        return _classify(await self._call(address, {"type": "write", "key": key,
                                                    "value": value}), "write_ok")

    async def cas(self, address: str, key: str, old: Any, new: Any) -> Outcome:
        return _classify(await self._call(address, {"type": "cas", "key": key, "from": old,
                                                    "to": new}), "cas_ok")

    def statistics(self) -> dict[str, Any]:
        stats = self.network.router.stats.to_dict()
        stats["ops"] = self.ops
        stats["server_messages_per_op"] = (round(stats["server_messages"] / self.ops, 3)
                                           if self.ops else None)
        stats["late_replies"] = self.network.late_replies
        return stats

    async def _call(self, node: str, body: dict[str, Any]) -> dict[str, Any]:
        self.ops += 1
        client = f"c{self.nodes.index(node) + 1}"
        reply = await self.network.request(client, node, body, self.op_timeout)
        if reply is None:
            return {"type": "error", "code": 0, "text": f"timeout after {self.op_timeout}s"}
        return reply


def _classify(reply: dict[str, Any], ok_type: str) -> Outcome:
    """ok, fail for a definite error code, else info."""
    if reply.get("type") == ok_type:
        return Outcome("ok")
    definite = reply.get("type") == "error" and reply.get("code") in DEFINITE_CODES
    return Outcome("fail" if definite else "info", error=_describe(reply))


def _describe(reply: dict[str, Any]) -> str:
    if reply.get("type") == "error":
        return f"error {reply.get('code')}: {reply.get('text', '')}".strip()
    return f"unexpected reply {reply.get('type')!r}"
