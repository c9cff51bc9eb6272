"""A minimal Maelstrom node for the test programs: JSON lines on stdin and
stdout, ``init`` handled, one handler per body type. Standard library only, so
a program runs under any python3."""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Callable
from typing import Any

Handler = Callable[[dict[str, Any]], None]
KEY_DOES_NOT_EXIST, PRECONDITION_FAILED = 20, 22


class Node:
    def __init__(self) -> None:
        self.id = ""
        self.ids: list[str] = []
        self.handlers: dict[str, Handler] = {}
        self._ids = itertools.count(1)

    def send(self, dest: str, body: dict[str, Any]) -> None:
        print(json.dumps({"src": self.id, "dest": dest, "body": body}), flush=True)

    def reply(self, request: dict[str, Any], body: dict[str, Any]) -> None:
        self.send(request["src"], {**body, "in_reply_to": request["body"]["msg_id"]})

    def new_id(self) -> int:
        return next(self._ids)

    def run(self) -> None:
        for line in sys.stdin:
            message = json.loads(line)
            kind = message["body"]["type"]
            if kind == "init":
                self.id, self.ids = message["body"]["node_id"], message["body"]["node_ids"]
                print(f"{self.id} initialised", file=sys.stderr, flush=True)
                self.reply(message, {"type": "init_ok"})
            elif kind in self.handlers:
                self.handlers[kind](message)


def apply(state: dict[str, Any], op: dict[str, Any]) -> dict[str, Any]:
    """A lin-kv op on a dict: the reply body (without in_reply_to)."""
    key = op["key"]
    if op["type"] == "read":
        if key not in state:
            return {"type": "error", "code": KEY_DOES_NOT_EXIST, "text": "no such key"}
        return {"type": "read_ok", "value": state[key]}
    if op["type"] == "write":
        state[key] = op["value"]
        return {"type": "write_ok"}
    if key not in state:
        return {"type": "error", "code": KEY_DOES_NOT_EXIST, "text": "no such key"}
    if state[key] != op["from"]:
        return {"type": "error", "code": PRECONDITION_FAILED, "text": "value differs"}
    state[key] = op["to"]
    return {"type": "cas_ok"}
