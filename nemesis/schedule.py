"""A seeded, reproducible plan of faults: fault, heal, fault, heal, ...

The plan depends only on its arguments, so a run's config (with the seed)
replays the same faults at the same offsets.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

from nemesis.faults import Fault
from nemesis.kinds import KINDS, check_kind, parse_target_choice

JITTER = 0.5  # each gap is its mean * uniform(1 - JITTER, 1 + JITTER)
WARM_UP_S = 1.0  # mean wait before the first fault (at most the interval)
HEAL_SHARE = 0.5  # a heal lasts this share of the interval, on average


@dataclass(frozen=True)
class Step:
    """At ``at`` seconds since the test started, start or stop ``fault``."""

    at: float
    action: Literal["start", "stop"]
    fault: Fault


class Schedule:
    """Alternates a fault and its heal: each fault lasts ``interval`` seconds and
    each heal half as long, on average (jittered). Iterating is endless; each
    iteration starts over from ``seed`` and yields the same steps.

    Why this shape: quorum bugs show only while a fault is in effect, and a
    20 s run must see several faults of different kinds. So the first fault
    starts after a short warm-up (the cluster is loaded, not cold), heals are
    only as long as recovery needs (anti-entropy runs every 0.5 s, ops time out
    after 1 s), and the kinds are dealt from a shuffled deck: every enabled
    kind once, in random order, before any kind repeats. With the defaults (2 s
    faults, 1 s heals) a 20 s run sees about six faults: every kind of the
    default nemesis once. The quorum-edge shapes (ring, bridge) expose quorum
    bugs; a run that missed them, as one in five did at 5 s faults, tested
    little (BENCHMARKS.md, "Third round").
    """

    def __init__(self, kinds: list[str], nodes: list[str], interval: float, seed: int,
                 target_choice: str | None = None) -> None:
        for kind in kinds:
            check_kind(kind, len(nodes))
        if interval <= 0:
            raise ValueError("nemesis interval must be positive")
        self.kinds = list(kinds)
        self.nodes = list(nodes)
        self.interval = interval
        self.seed = seed
        self.target_choice = parse_target_choice(target_choice)

    def __iter__(self) -> Iterator[Step]:
        if not self.kinds:
            return
        rng = random.Random(self.seed)
        at = _jittered(min(WARM_UP_S, self.interval), rng)
        deck: list[str] = []
        while True:
            if not deck:
                deck = rng.sample(self.kinds, len(self.kinds))
            fault = KINDS[deck.pop()].decide(self.nodes, rng, self.target_choice)
            yield Step(at, "start", fault)
            at += _jittered(self.interval, rng)
            yield Step(at, "stop", fault)
            at += _jittered(self.interval * HEAL_SHARE, rng)


def _jittered(mean: float, rng: random.Random) -> float:
    return mean * rng.uniform(1 - JITTER, 1 + JITTER)
