"""A wrong lin-kv program: every node applies ops to its own copy, answers at
once, and tells the others afterwards (fire and forget). Reads are served from
local state without coordination, so a node that missed a write (partitioned,
or just not told yet) returns a stale value: the harness must catch it."""

from __future__ import annotations

from typing import Any

from maelstrom_node import Node, apply

node = Node()
state: dict[str, Any] = {}


def client_op(request: dict[str, Any]) -> None:
    answer = apply(state, request["body"])
    node.reply(request, answer)
    if request["body"]["type"] != "read" and answer["type"] != "error":
        for other in node.ids:
            if other != node.id:
                node.send(other, {"type": "replicate", "key": request["body"]["key"],
                                  "value": state[request["body"]["key"]]})


def replicate(message: dict[str, Any]) -> None:
    state[message["body"]["key"]] = message["body"]["value"]


node.handlers.update(read=client_op, write=client_op, cas=client_op, replicate=replicate)
node.run()
