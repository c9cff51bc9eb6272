"""The simulated network: per-link delay distributions, loss, duplication,
reordering, partitions (grudges, asymmetric ones included) and the nemesis's
link delay, decided per message.

A grudge means what it means to the real nemesis (``nemesis.faults``):
``grudge[b]`` holds the nodes whose traffic ``b`` drops. The simulated network
works per message, so a one-way cut drops exactly one direction (DESIGN.md:
over TCP it would stall both). The nemesis ``delay`` fault's loss stands for
what TCP makes of a lost segment, a retransmission about 200 ms later.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from math import log

from nemesis.capabilities import Grudge
from sim.schedule import LinkModel, Schedule

TCP_RETRANSMIT_S = 0.2
REORDER_FACTOR = 20.0  # a held-back message waits up to this many mean delays more


@dataclass
class Sent:
    """One message as the story tells it (kept only when tracing)."""

    at: float
    src: str
    dst: str
    what: object  # the message (the story puts it in words)
    tag: int | None  # the invoke index of the client op it serves
    arrivals: list[float]  # empty: lost
    why_lost: str = ""


class Network:
    """Decides, for each message, when (and how many times) it arrives."""

    def __init__(self, schedule: Schedule, trace: bool = False) -> None:
        self.model = schedule.network
        self.sample = sampler(self.model)
        # no loss, duplication or reordering: a delay is one draw
        self.plain = not (self.model.loss or self.model.duplicate or self.model.reorder)
        self.rng = schedule.rng("network")
        self.overrides = [d / 1000.0 for d in schedule.delays_ms]
        self.grudges: list[Grudge] = []
        self.link_faults: list[tuple[frozenset[tuple[str, str]], LinkModel]] = []
        self.delays: list[tuple[float, float, float]] = []  # nemesis delay faults
        self.sent = 0
        self.lost = 0
        self.trace: list[Sent] | None = [] if trace else None

    def cut(self, src: str, dst: str) -> bool:
        """Does ``dst`` drop what ``src`` sends?"""
        return any(src in grudge.get(dst, ()) for grudge in self.grudges)

    def transit(self, now: float, src: str, dst: str, what: object = None,
                tag: int | None = None, rng: random.Random | None = None) -> list[float]:
        """Delays (seconds) of each copy of one message from src to dst; [] if lost.
        ``rng``: the stream of the client whose op it serves (None: the network's)."""
        rng = rng or self.rng
        index = self.sent
        self.sent += 1
        if src == dst:  # loopback: never cut, never slowed by the nemesis
            delays = [self.sample(rng)]
        elif self.grudges and self.cut(src, dst):
            delays = []
            self._note(now, src, dst, what, tag, delays, "partitioned")
            self.lost += 1
            return delays
        elif index < len(self.overrides):
            delays = [self.overrides[index]]
        elif self.plain and not self.link_faults and not self.delays:
            delays = [self.sample(rng)]  # the common case, one draw
        else:
            delays = self._draw(src, dst, rng)
        if not delays:
            self.lost += 1
        if self.trace is not None:
            self._note(now, src, dst, what, tag, delays, "lost")
        return delays

    def _draw(self, src: str, dst: str, rng: random.Random) -> list[float]:
        model = self.model
        for links, faulty in self.link_faults:
            if (src, dst) in links:
                model = faulty
        if model.loss and rng.random() < model.loss:
            return []
        delay = sampler(model)(rng)
        for mean, jitter, loss in self.delays:
            delay += max(0.0, rng.uniform(mean - jitter, mean + jitter)) / 1000.0
            if rng.random() < loss:
                delay += TCP_RETRANSMIT_S
        if model.reorder and rng.random() < model.reorder:
            delay += rng.uniform(0.0, REORDER_FACTOR * model.mean_ms / 1000.0)
        if model.duplicate and rng.random() < model.duplicate:
            return [delay, delay + sampler(model)(rng)]
        return [delay]

    def _note(self, now: float, src: str, dst: str, what: object, tag: int | None,
              delays: Iterable[float], why: str) -> None:
        if self.trace is not None:
            arrivals = [now + d for d in delays]
            self.trace.append(Sent(now, src, dst, what, tag, arrivals,
                                   "" if arrivals else why))


@lru_cache(maxsize=64)
def sampler(model: LinkModel) -> Callable[[random.Random], float]:
    """A link's delay draw (seconds) from ``model``'s distribution and mean."""
    mean = model.mean_ms / 1000.0
    kind = model.distribution
    if mean <= 0 or kind == "constant":
        return lambda rng: mean
    if kind == "exponential":  # as random.expovariate, without its call
        return lambda rng: -log(1.0 - rng.random()) * mean
    if kind == "uniform":
        return lambda rng: rng.random() * 2.0 * mean
    mu = log(mean) - 0.5  # lognormal: a heavy tail with the given mean (sigma 1)
    return lambda rng: rng.lognormvariate(mu, 1.0)
