"""Faults as values, and the choices behind them (targets, partition shapes).

A :class:`Fault` says what to do, never how: its kind (nemesis/kinds.py) hands
it to a backend capability. A partition is a *grudge*: ``grudge[a]`` is the set
of nodes whose traffic ``a`` drops. TCP needs both directions, so a one-way
drop between two nodes stops new connections between them either way, and on a
connection already open it lets requests through but holds the replies; the
shapes below are therefore symmetric except ``random_grudge``, which exists to
exercise one-way drops too.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from nemesis.capabilities import Grudge

TARGET_CHOICES = ("one", "minority", "majority", "all")
"""Jepsen's choices of how many nodes a kill, pause or clock skew hits."""


# Link delay and loss: replicas of one write get it at different times (a
# lost segment is ~200 ms late), which is what makes a too-early acknowledgement
# or a missing read write-back observable.
DELAY_MS = 10.0
JITTER_MS = 10.0
LOSS = 0.4
MAX_SKEW_S = 2.0  # clock-skew offsets are uniform in [-MAX_SKEW_S, MAX_SKEW_S]


@dataclass(frozen=True)
class Fault:
    """One fault: a process fault on ``targets``, a partition ``grudge``, a link
    ``delay`` (ms, jitter ms, loss fraction), or clock ``offsets`` (node -> s)."""

    kind: str
    targets: tuple[str, ...] = ()
    grudge: Grudge | None = None
    delay: tuple[float, float, float] | None = None
    offsets: dict[str, float] | None = None

    def describe(self) -> dict[str, Any]:
        """The JSON value recorded in the history for this fault."""
        value: dict[str, Any] = {"kind": self.kind, "nodes": list(self.targets)}
        if self.grudge is not None:
            value["grudge"] = {a: sorted(b) for a, b in sorted(self.grudge.items()) if b}
        if self.delay is not None:
            value["delay_ms"], value["jitter_ms"], value["loss"] = self.delay
        if self.offsets is not None:
            value["offsets_s"] = dict(sorted(self.offsets.items()))
        return value


def majority(n: int) -> int:
    """Smallest number of nodes that is more than half of ``n``."""
    return n // 2 + 1


def choose_targets(nodes: Sequence[str], rng: random.Random,
                   choice: str | None = None) -> tuple[str, ...]:
    """Jepsen's target choice for kill/pause: one node, the largest minority,
    the smallest majority, or all; ``choice`` None picks one of these at random."""
    choice = choice or rng.choice(TARGET_CHOICES)
    shuffled = list(nodes)
    rng.shuffle(shuffled)
    count = {
        "one": 1,
        "minority": max(1, majority(len(nodes)) - 1),
        "majority": majority(len(nodes)),
        "all": len(nodes),
    }[choice]
    return tuple(sorted(shuffled[:count]))


def grudge_from_components(components: Iterable[Iterable[str]]) -> Grudge:
    """Each node drops traffic from every node outside its own component."""
    groups = [frozenset(c) for c in components]
    everyone = frozenset().union(*groups)
    return {node: everyone - group for group in groups for node in group}


def halves(nodes: Sequence[str], rng: random.Random) -> Grudge:
    """A random majority cut off from the remaining minority."""
    shuffled = _shuffled(nodes, rng)
    m = majority(len(nodes))
    return grudge_from_components([shuffled[:m], shuffled[m:]])


def isolate(nodes: Sequence[str], rng: random.Random) -> Grudge:
    """One random node cut off from all the others."""
    shuffled = _shuffled(nodes, rng)
    return grudge_from_components([shuffled[:1], shuffled[1:]])


def two_components(nodes: Sequence[str], rng: random.Random) -> Grudge:
    """Two random components of any sizes."""
    shuffled = _shuffled(nodes, rng)
    cut = rng.randrange(1, len(shuffled))
    return grudge_from_components([shuffled[:cut], shuffled[cut:]])


def bridge(nodes: Sequence[str], rng: random.Random) -> Grudge:
    """Two halves that cannot see each other, joined by one node that sees both."""
    shuffled = _shuffled(nodes, rng)
    half = len(shuffled) // 2
    left, middle, right = shuffled[:half], shuffled[half], shuffled[half + 1 :]
    grudge: Grudge = {a: frozenset(right) for a in left}
    grudge.update({b: frozenset(left) for b in right})
    grudge[middle] = frozenset()
    return grudge


def ring(nodes: Sequence[str], rng: random.Random) -> Grudge:
    """Majorities ring: nodes on a random cycle, each seeing the window of its
    neighbours around it. Every node sees a majority and no two see the same set.

    Windows are symmetric (``a`` sees ``b`` iff ``b`` sees ``a``), so each is the
    smallest odd-sized window holding a majority; for most sizes that is exactly
    a majority (for 6 or 7 nodes it is 5).
    """
    n = len(nodes)
    if n < 4:
        raise ValueError("a majorities ring needs at least 4 nodes")
    cycle = _shuffled(nodes, rng)
    radius = majority(n) // 2  # window = 2*radius + 1 >= majority, and < n
    everyone = frozenset(cycle)
    grudge: Grudge = {}
    for i, node in enumerate(cycle):
        view = {cycle[(i + d) % n] for d in range(-radius, radius + 1)}
        grudge[node] = everyone - view
    return grudge


def random_grudge(nodes: Sequence[str], rng: random.Random, p: float = 0.3) -> Grudge:
    """Each pair is cut with probability ``p``, one way or both; at least one cut."""
    grudge: dict[str, set[str]] = {node: set() for node in nodes}
    pairs = [(a, b) for i, a in enumerate(nodes) for b in nodes[i + 1 :]]
    cut = [pair for pair in pairs if rng.random() < p] or [rng.choice(pairs)]
    for a, b in cut:
        way = rng.choice(("a-drops-b", "b-drops-a", "both"))
        if way != "b-drops-a":
            grudge[a].add(b)
        if way != "a-drops-b":
            grudge[b].add(a)
    return {node: frozenset(dropped) for node, dropped in grudge.items()}


def _shuffled(nodes: Sequence[str], rng: random.Random) -> list[str]:
    shuffled = list(nodes)
    rng.shuffle(shuffled)
    return shuffled
