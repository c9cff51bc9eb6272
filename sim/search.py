"""hypothesis draws schedules, runs each in the simulator, checks its history
with the same checkers as a real run, and shrinks the first failing one.

A schedule is drawn cluster size first (so shrinking tries fewer nodes
first), then the clients and their ops, the faults, the network (the first
messages' delays one by one, then a link model and a seed for the rest), and
which nodes have a slow disk. hypothesis then shrinks toward fewer nodes,
fewer and simpler ops, fewer faults, and shorter delays, keeping only what the
anomaly needs; the passes of ``sim.shrink`` then cut the schedule itself (a
client, an op, a fault, a node at a time) where hypothesis's cuts stop.

The search repeats exactly: hypothesis runs from ``random.Random(seed)`` with
no example database, and every run it asks for is deterministic.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

from hypothesis import HealthCheck, Phase, find, settings
from hypothesis import strategies as st
from hypothesis.errors import NoSuchExample

from checkers.api import Report, check, default_checkers
from nemesis.faults import TARGET_CHOICES
from nemesis.kinds import KINDS
from sim.schedule import (
    DISTRIBUTIONS,
    FAULT_KINDS,
    LINK_FAULT,
    ClientOp,
    FaultEvent,
    LinkModel,
    Schedule,
    derived_rng,
)
from sim.shrink import size, tighten
from sim.simulation import SimResult, simulate

CHECK_TIME_LIMIT = 2.0  # seconds per history; a key undecided by then is "unknown"
SHRINK_BUDGET = 400  # schedules run while shrinking; then the smallest failing one so far
SHORT_STORY = 12  # client ops; a longer shrunk schedule gets up to 4 budgets more


class _Enough(Exception):
    """Shrinking used its budget: stop with the smallest failing schedule seen."""


@dataclass(frozen=True)
class Space:
    """What the search may draw: cluster, clients, faults and their sizes."""

    bugs: tuple[str, ...] = ()
    mode: str = "coordinator"
    min_nodes: int = 2
    max_nodes: int = 5
    max_clients: int = 10
    max_ops: int = 6  # per client
    max_keys: int = 2
    kinds: tuple[str, ...] = FAULT_KINDS
    max_faults: int = 3
    max_delays: int = 8


def schedules(space: Space) -> st.SearchStrategy[Schedule]:
    """Schedules within ``space``."""
    return _schedule(space)


@st.composite
def _schedule(draw: st.DrawFn, space: Space) -> Schedule:
    nodes = draw(st.integers(space.min_nodes, space.max_nodes))
    keys = draw(st.integers(1, space.max_keys))
    clients, faults = draw(_parts(space, nodes, keys))
    delays = draw(st.lists(_DELAY, max_size=space.max_delays))
    drift = draw(_DRIFT)  # ms; each node's natural offset is uniform in +-drift
    seed = draw(_SEED)
    spread = derived_rng(seed, "clocks")
    offsets = [round(spread.uniform(-drift, drift), 3) if drift else 0.0 for _ in range(nodes)]
    network = LinkModel(distribution=draw(_DISTRIBUTION), mean_ms=float(draw(_MEAN)),
                        reorder=draw(_REORDER))
    slow = draw(st.integers(0, 2**nodes - 1))  # one bit per node: its disk is slow
    disks = tuple(SLOW_DISK_MS if slow >> i & 1 else Schedule.disk_ms
                  for i in range(nodes)) if slow else ()
    return Schedule(nodes=nodes, mode=space.mode, bugs=space.bugs, keys=keys,
                    clients=tuple(clients), faults=tuple(sorted(faults, key=_fault_order)),
                    network=network, delays_ms=tuple(delays), clock_offsets_ms=tuple(offsets),
                    seed=seed, disks_ms=disks)


# Slow disks are what make a write lag at some replicas while reads everywhere
# are quick: the write is visible (and acknowledged) where the disk is fast and
# still committing where it is slow, which is when a read that skips the
# write-back, or a write acknowledged too early, shows. Delays on the network
# slow the reads as much as the writes; a slow disk slows only the writes.
SLOW_DISK_MS = 50.0  # an fsync behind a busy disk's queue

# Strategies are built once (building one is far dearer than drawing from it).
_DELAY = st.integers(0, 100).map(float)
_DRIFT = st.integers(0, 5)
GAPS_MS = 6  # think times 0..5 ms
_DISTRIBUTION = st.sampled_from(DISTRIBUTIONS[::-1])
_MEAN = st.sampled_from((1, 2, 5))
_SEED = st.integers(0, 2**16 - 1)
_REORDER = st.sampled_from((0.0, 0.2))


@lru_cache(maxsize=256)
def _parts(space: Space, nodes: int, keys: int) -> st.SearchStrategy[tuple[list, list]]:
    """Clients' ops and faults for a cluster of ``nodes`` and ``keys`` keys."""
    # One draw per op (each draw costs hypothesis more than simulating the op):
    # it shrinks toward 0, a write of k0 with no think time.
    op = st.integers(0, GAPS_MS * 2 * keys - 1).map(
        lambda v: ClientOp(float(v // (2 * keys)), ("write", "read")[v // keys % 2], v % keys))
    clients = st.lists(st.lists(op, min_size=1, max_size=space.max_ops).map(tuple),
                       min_size=1, max_size=space.max_clients)
    kinds = [kind for kind in space.kinds
             if kind == LINK_FAULT or nodes >= KINDS[kind].min_nodes]
    node_ids = [f"n{i}" for i in range(1, nodes + 1)]
    faults = (st.lists(_fault(tuple(kinds), tuple(node_ids)), max_size=space.max_faults)
              if kinds else st.just([]))
    return st.tuples(clients, faults)


def _fault_order(fault: FaultEvent) -> tuple[float, str]:
    return (fault.at_ms, fault.kind)


def _fault(kinds: tuple[str, ...], node_ids: tuple[str, ...]) -> st.SearchStrategy[FaultEvent]:
    pairs = [(a, b) for a in node_ids for b in node_ids if a != b]
    links = st.lists(st.sampled_from(pairs), min_size=1, max_size=4, unique=True)
    model = st.builds(LinkModel, distribution=_DISTRIBUTION,
                      mean_ms=st.sampled_from((5.0, 20.0, 100.0)),
                      loss=st.sampled_from((0.0, 0.3, 1.0)),
                      duplicate=st.sampled_from((0.0, 0.5)),
                      reorder=st.sampled_from((0.0, 0.5)))
    # A mechanism first, then a kind of it: the six partition shapes together are
    # as likely as a kill, a pause, a delay, a clock skew or a link fault.
    families: dict[str, list[str]] = {}
    for kind in kinds:
        families.setdefault(KINDS[kind].label if kind in KINDS else kind, []).append(kind)
    kind_of = st.sampled_from([st.sampled_from(group) for group in families.values()]).flatmap(
        lambda group: group)
    at, duration = st.integers(0, 30), st.integers(1, 300)
    seed, targets = st.integers(0, 255), st.sampled_from((None, *TARGET_CHOICES))

    @st.composite
    def fault(draw: st.DrawFn) -> FaultEvent:
        kind = draw(kind_of)
        event = FaultEvent(at_ms=float(draw(at)), kind=kind, duration_ms=float(draw(duration)),
                           seed=draw(seed), targets=draw(targets))
        if kind == LINK_FAULT:
            event = replace(event, targets=None, links=tuple(sorted(draw(links))),
                            model=draw(model))
        return event

    return fault()


def check_run(result: SimResult) -> Report:
    """The same checkers a real run uses (register model)."""
    history = result.history
    return check(history, checkers=default_checkers(history), model="register",
                 time_limit=CHECK_TIME_LIMIT)


@dataclass
class SearchResult:
    """How a search ended: the shrunk failing schedule, or the last one tried."""

    found: Schedule | None
    last: Schedule | None
    examples: int  # schedules run, shrinking included
    ops: int  # simulated client ops over all of them
    first_failure_s: float | None  # wall seconds until the first failing schedule
    first_failure_cpu_s: float | None  # CPU seconds of this process until then
    first_failure_ops: int | None  # its client op count, before shrinking
    first_failure_example: int | None  # how many schedules it took to find it
    seconds: float


def search(space: Space, examples: int, seed: int,
           progress: Callable[[str], None] = lambda _: None,
           shrink_budget: int = SHRINK_BUDGET) -> SearchResult:
    """Run up to ``examples`` schedules; shrink the first that fails, running at
    most ``shrink_budget`` more in hypothesis's shrinker and as many again in
    ``sim.shrink``'s passes (four times that while the smallest failing one has
    more than SHORT_STORY ops): counts, not times, so the result repeats."""
    started, cpu_started = time.perf_counter(), time.process_time()
    state = SearchResult(None, None, 0, 0, None, None, None, None, 0.0)

    smallest: list[Schedule] = []
    shrinking_from = 0

    def fails(schedule: Schedule) -> bool:
        nonlocal shrinking_from
        if smallest and schedule == smallest[0]:  # hypothesis's last replay: known to fail
            return True
        if smallest and state.examples - shrinking_from >= shrink_budget * (
                1 if smallest[0].op_count <= SHORT_STORY else 4):
            raise _Enough
        state.examples += 1
        state.ops += schedule.op_count
        failed = check_run(simulate(schedule)).verdict is False
        if failed and (not smallest or size(schedule) <= size(smallest[0])):
            smallest[:] = [schedule]
        if state.first_failure_s is None:
            state.last = schedule
            if failed:
                state.first_failure_s = time.perf_counter() - started
                state.first_failure_cpu_s = time.process_time() - cpu_started
                state.first_failure_ops = schedule.op_count
                shrinking_from = state.first_failure_example = state.examples
                progress(f"schedule {state.examples} failed after "
                         f"{state.first_failure_s:.2f}s ({schedule.op_count} ops); shrinking")
        return failed

    config = settings(max_examples=examples, database=None, deadline=None,
                      phases=(Phase.generate, Phase.shrink), derandomize=False,
                      suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
    with contextlib.suppress(NoSuchExample, _Enough):
        find(schedules(space), fails, settings=config, random=random.Random(seed))
    if smallest:  # then the passes over the schedule itself, on a budget of their own
        shrinking_from = state.examples
        with contextlib.suppress(_Enough):
            tighten(smallest[0], fails)
        state.found = smallest[0]
    state.seconds = time.perf_counter() - started
    return state
