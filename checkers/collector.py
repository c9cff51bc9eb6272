"""Pause the cyclic garbage collector while building millions of live objects.

Loading or checking a large history allocates millions of small objects that
all stay alive; each allocation burst triggers collections that scan every one
of them, so a million-op history spends more time in the collector than in the
work (measured: load 23 s -> 12 s, graph check 30 s -> 12 s at 1M ops on a
loaded 2-CPU machine). None of those objects is garbage, so nothing is lost by
pausing; reference counting still frees everything that dies.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cyclic collector inside the block; restore its state after."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
