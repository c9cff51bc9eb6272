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

JITTER = 0.5  # each gap is interval * uniform(1 - JITTER, 1 + JITTER)


@dataclass(frozen=True)
class Step:
    """At ``at`` seconds since the test started, start or stop ``fault``."""

    at: float
    action: Literal["start", "stop"]
    fault: Fault


class Schedule:
    """Alternates a fault (a random enabled kind) and its heal every ``interval``
    seconds (jittered). Iterating is endless; each iteration starts over from
    ``seed`` and yields the same steps."""

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
        at = 0.0
        while True:
            at += self._gap(rng)
            kind = KINDS[rng.choice(self.kinds)]
            fault = kind.decide(self.nodes, rng, self.target_choice)
            yield Step(at, "start", fault)
            at += self._gap(rng)
            yield Step(at, "stop", fault)

    def _gap(self, rng: random.Random) -> float:
        return self.interval * rng.uniform(1 - JITTER, 1 + JITTER)
