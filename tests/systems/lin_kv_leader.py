"""A correct lin-kv program: n1 holds the only copy and applies every op in the
order it arrives; every other node forwards its clients' ops to n1 and relays
the answer. Unavailable when cut off from n1, never inconsistent. It also
writes a line on stdout that is no JSON at start, which the harness must log
and count, not crash on."""

from __future__ import annotations

from typing import Any

from maelstrom_node import Node, apply

node = Node()
state: dict[str, Any] = {}
waiting: dict[int, dict[str, Any]] = {}  # forwarded msg id -> the client's request


def client_op(request: dict[str, Any]) -> None:
    if node.id == "n1":
        node.reply(request, apply(state, request["body"]))
        return
    forwarded = node.new_id()
    waiting[forwarded] = request
    node.send("n1", {"type": "forward", "msg_id": forwarded, "op": request["body"]})


def forward(message: dict[str, Any]) -> None:
    node.reply(message, {"type": "forward_ok", "answer": apply(state, message["body"]["op"])})


def forward_ok(message: dict[str, Any]) -> None:
    request = waiting.pop(message["body"]["in_reply_to"], None)
    if request is not None:
        node.reply(request, message["body"]["answer"])


node.handlers.update(read=client_op, write=client_op, cas=client_op, forward=forward,
                     forward_ok=forward_ok)
print("lin-kv leader program starting", flush=True)
node.run()
