"""What a coordinator decides around each quorum operation, sans I/O.

A node coordinator, a fan-out client and the simulator (``sim/``) all
coordinate through this one class, so they pick the same replicas in the same
order, the same version counters under the buggy version sources, and keep the
same per-writer state; only how messages travel differs (``replica.driver`` for
asyncio over HTTP, ``sim.node`` under virtual time).

Decisions it makes:

- which replicas hold a key (rendezvous hashing) and the order to ask them in
  (the coordinator itself first, since that is free, then the others shuffled);
- the version counter of a write under the ``local-version`` and ``wall-clock``
  bugs (the correct write reads it from a quorum instead);
- the counters this writer has issued per key, shared by all its writes, and
  the highest counter it has seen per key (a fan-out client's "local counter",
  since it has no store of its own).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Any

from replica.placement import preference_list
from replica.protocol import LOCAL_VERSION, WALL_CLOCK, ReadOp, WriteOp
from replica.version import Version


class Coordinator:
    """Makes the read and write operations of one writer id.

    ``local_counter(key)``: the counter of the coordinator's own copy (a node's
    store); without one, the highest counter this coordinator has observed.
    ``clock_micros()``: the coordinator's wall clock (only the wall-clock bug reads it).
    ``prefer``: the node asked first (the coordinator itself). ``rng``: the
    shuffle of the other replicas (a simulator passes a seeded one, and may
    pass one per operation instead).
    """

    def __init__(self, nodes: Iterable[str], *, n: int, r: int, w: int, writer: str,
                 bugs: Iterable[str] = (),
                 local_counter: Callable[[str], int] | None = None,
                 clock_micros: Callable[[], int] | None = None,
                 prefer: str | None = None, rng: random.Random | None = None) -> None:
        self.nodes = sorted(nodes)
        self.n, self.r, self.w = n, r, w
        self.writer = writer
        self.bugs = frozenset(bugs)
        self._local_counter = local_counter
        self._clock_micros = clock_micros
        self._prefer = prefer
        self._rng = rng or random.Random()
        self.issued: dict[str, int] = {}  # counters this writer used, per key
        self.highest_seen: dict[str, int] = {}  # counters seen in outcomes, per key

    def replicas(self, key: str) -> list[str]:
        return preference_list(key, self.nodes, self.n)

    def ask_order(self, key: str, rng: random.Random | None = None) -> list[str]:
        """The key's replicas: the preferred node first, the others shuffled."""
        replicas = self.replicas(key)
        (rng or self._rng).shuffle(replicas)
        if self._prefer in replicas:
            replicas.remove(self._prefer)
            replicas.insert(0, self._prefer)
        return replicas

    def read_op(self, key: str, rng: random.Random | None = None) -> ReadOp:
        return ReadOp(key, self.ask_order(key, rng), self.r, self.w, self.bugs)

    def write_op(self, key: str, value: Any, rng: random.Random | None = None) -> WriteOp:
        return WriteOp(key, value, self.ask_order(key, rng), self.r, self.w, self.writer,
                       self.bugs, fixed_counter=self.fixed_counter(key), issued=self.issued)

    def fixed_counter(self, key: str) -> int | None:
        """The counter the buggy version sources pick (None: the correct quorum read)."""
        if WALL_CLOCK in self.bugs and self._clock_micros is not None:
            return self._clock_micros()
        if LOCAL_VERSION in self.bugs:
            if self._local_counter is not None:
                return self._local_counter(key) + 1
            return self.highest_seen.get(key, 0) + 1
        return None

    def observe(self, key: str, version: Version | None) -> None:
        """Note the version an operation ended with (the fan-out client's local counter)."""
        if version is not None and version.counter > self.highest_seen.get(key, 0):
            self.highest_seen[key] = version.counter
