"""The Maelstrom network's decisions, without I/O: lines and clock ticks in,
deliveries out (the shape of h11 and of ``replica/protocol.py``).

Every message a node writes names its ``dest``; the router decides whether
and when it arrives. Faults apply only between servers (``n1..``): a grudge
drops (``grudge[b]`` holds the nodes whose messages ``b`` never gets), delay
holds a message ``delay ± jitter`` seconds, loss drops it at random. Clients
(``c1..``, the harness) always reach the node they ask, as in Maelstrom, so
an op's fate depends on the servers' network alone. A message to a node that
is down is dropped: its memory and its stdin are gone.

The shell (network.py) feeds :meth:`Router.from_node` with each stdout line,
:meth:`Router.from_client` with each request, and :meth:`Router.tick` when
:meth:`Router.next_due` comes; it performs the :class:`Deliver` and
:class:`Discard` actions it gets back.
"""

from __future__ import annotations

import heapq
import itertools
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from nemesis.capabilities import Grudge


@dataclass(frozen=True)
class Deliver:
    """Write ``message`` to ``dest`` (a node's stdin, or a harness client)."""

    dest: str
    message: dict[str, Any]


@dataclass(frozen=True)
class Discard:
    """A line from ``node`` that is no message; the shell logs it."""

    node: str
    line: str
    reason: str


Action = Deliver | Discard


@dataclass
class MessageStats:
    """Maelstrom's net statistics: what was sent, by whom, and what became of it."""

    server: Counter[str] = field(default_factory=Counter)  # node-to-node, by body type
    client: Counter[str] = field(default_factory=Counter)  # to or from a client, by type
    dropped: Counter[str] = field(default_factory=Counter)  # why: partition, loss, down
    delayed: int = 0
    not_messages: Counter[str] = field(default_factory=Counter)  # non-JSON lines, per node

    def to_dict(self) -> dict[str, Any]:
        return {"server_messages": sum(self.server.values()), "server_by_type":
                dict(self.server), "client_messages": sum(self.client.values()),
                "client_by_type": dict(self.client), "dropped": dict(self.dropped),
                "delayed": self.delayed, "not_messages": dict(self.not_messages)}


class Router:
    """Routes messages between nodes and clients under the current faults."""

    def __init__(self, nodes: Iterable[str], rng: random.Random | None = None) -> None:
        self.nodes = frozenset(nodes)
        self.rng = rng or random.Random()
        self.grudge: Grudge = {}
        self.delay = 0.0
        self.jitter = 0.0
        self.loss = 0.0
        self.down: set[str] = set()
        self.stats = MessageStats()
        self._queue: list[tuple[float, int, Deliver]] = []
        self._order = itertools.count()

    # faults
    def partition(self, grudge: Grudge) -> None:
        unknown = (set(grudge) | set().union(*grudge.values())) - self.nodes
        if unknown:
            raise ValueError(f"grudge names unknown nodes: {', '.join(sorted(unknown))}")
        self.grudge = dict(grudge)

    def heal(self) -> None:
        self.grudge = {}

    def set_delay(self, delay_s: float, jitter_s: float = 0.0, loss: float = 0.0) -> None:
        self.delay, self.jitter, self.loss = delay_s, jitter_s, loss

    def clear_delay(self) -> None:
        self.set_delay(0.0)

    def node_down(self, node: str) -> None:
        self.down.add(node)

    def node_up(self, node: str) -> None:
        self.down.discard(node)

    # traffic
    def from_node(self, node: str, line: str | bytes, now: float) -> list[Action]:
        """One line a node wrote on stdout."""
        try:
            message = orjson.loads(line)
        except orjson.JSONDecodeError:
            return self._discard(node, line, "not JSON")
        if not (isinstance(message, dict) and isinstance(message.get("dest"), str)
                and isinstance(message.get("body"), dict)):
            return self._discard(node, line, "not a message (src, dest, body)")
        message["src"] = node  # a node cannot speak for another
        dest = message["dest"]
        kind = str(message["body"].get("type"))
        if dest not in self.nodes:
            self.stats.client[kind] += 1
            return [Deliver(dest, message)]
        self.stats.server[kind] += 1
        if node in self.grudge.get(dest, ()):
            self.stats.dropped["partition"] += 1
            return []
        if self.loss and self.rng.random() < self.loss:
            self.stats.dropped["loss"] += 1
            return []
        if self.delay or self.jitter:
            wait = max(0.0, self.delay + self.rng.uniform(-self.jitter, self.jitter))
            self.stats.delayed += 1
            heapq.heappush(self._queue, (now + wait, next(self._order), Deliver(dest, message)))
            return self.tick(now)
        return self._arrive(Deliver(dest, message))

    def from_client(self, message: dict[str, Any]) -> list[Action]:
        """A request a harness client sends to a node (never faulted)."""
        self.stats.client[str(message["body"].get("type"))] += 1
        return self._arrive(Deliver(message["dest"], message))

    def tick(self, now: float) -> list[Action]:
        """Every held message whose time has come."""
        actions: list[Action] = []
        while self._queue and self._queue[0][0] <= now:
            actions += self._arrive(heapq.heappop(self._queue)[2])
        return actions

    def next_due(self) -> float | None:
        """When :meth:`tick` next has something to deliver."""
        return self._queue[0][0] if self._queue else None

    def _arrive(self, delivery: Deliver) -> list[Action]:
        if delivery.dest in self.down:
            self.stats.dropped["down"] += 1
            return []
        return [delivery]

    def _discard(self, node: str, line: str | bytes, reason: str) -> list[Action]:
        self.stats.not_messages[node] += 1
        text = line.decode(errors="replace") if isinstance(line, bytes) else line
        return [Discard(node, text.rstrip("\n"), reason)]
