"""Virtual time: a heap of timed callbacks, run in (time, insertion) order.

Nothing waits for real time, so a simulated second costs only the callbacks in
it; ties run in the order they were scheduled, which keeps every run of a
schedule identical.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from itertools import count
from typing import Any


class Loop:
    """The simulator's only clock and scheduler."""

    def __init__(self) -> None:
        self.now = 0.0  # seconds since the run started
        self.stopped = False
        self.callbacks = 0  # run so far (the benchmark's message count comes from it)
        self._heap: list[tuple[float, int, Callable[..., Any], tuple[Any, ...]]] = []
        self._order = count()

    def after(self, delay: float, fn: Callable[..., Any], *args: Any) -> None:
        heapq.heappush(self._heap, (self.now + delay, next(self._order), fn, args))

    def stop(self) -> None:
        """Make the current ``run`` return after this callback."""
        self.stopped = True

    def run(self, until: float = float("inf")) -> None:
        """Run callbacks until ``stop()`` or until virtual time would pass ``until``."""
        heap, pop = self._heap, heapq.heappop
        self.stopped = False
        ran = 0
        while heap and not self.stopped:
            if heap[0][0] > until:
                self.now = until
                break
            when, _, fn, args = pop(heap)
            self.now = when
            fn(*args)
            ran += 1
        self.callbacks += ran
