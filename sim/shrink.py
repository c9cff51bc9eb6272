"""Shrinking passes over the schedule itself, after hypothesis's own.

hypothesis shrinks the choices a schedule was drawn from, and there a cut
that is small for the user can be a large jump: one op fewer moves every
later draw of the shared network stream, one node fewer re-reads every
choice after the cluster size. It then stops in a local minimum with a story
of 13 ops where 5 would do. These passes cut the schedule as the user counts
it (a client, an op, a fault, a node) and keep each cut that still fails,
until no single cut does: the result is 1-minimal over those cuts.
Simplifications that change no count (the first messages' delays, the slow
disks, the network model) are tried last, so the story has less to tell.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

from nemesis.kinds import KINDS
from sim.schedule import LinkModel, Schedule, ScheduleError

Fails = Callable[[Schedule], bool]


def size(schedule: Schedule) -> tuple[int, int, int]:
    """What "smaller" means to the user: fewer ops, then faults, then nodes."""
    return (schedule.op_count, len(schedule.faults), schedule.nodes)


def tighten(schedule: Schedule, fails: Fails) -> Schedule:
    """The smallest failing schedule reached from ``schedule`` (known to fail)
    by cuts that each still fail; ``fails`` may raise to stop early, which
    the caller catches (the best so far is what it last accepted)."""
    current = schedule
    while True:
        for candidate in cuts(current):
            if _valid(candidate) and fails(candidate):
                current = candidate
                break
        else:
            break
    for simplify in _SIMPLIFICATIONS:
        candidate = simplify(current)
        if candidate != current and _valid(candidate) and fails(candidate):
            current = candidate
    return current


def _valid(schedule: Schedule) -> bool:
    try:
        schedule.validate()
    except ScheduleError:
        return False
    return True


def cuts(schedule: Schedule) -> Iterator[Schedule]:
    """Each single cut, the biggest first: a whole client, one op, a fault, a node."""
    clients = schedule.clients
    for i in range(len(clients)):
        if len(clients) > 1:
            yield replace(schedule, clients=clients[:i] + clients[i + 1:])
    for i, ops in enumerate(clients):
        for j in range(len(ops)):
            yield replace(schedule, clients=(*clients[:i], ops[:j] + ops[j + 1:],
                                             *clients[i + 1:]))
    for i in range(len(schedule.faults)):
        yield replace(schedule, faults=schedule.faults[:i] + schedule.faults[i + 1:])
    if schedule.nodes > 1:
        yield _without_last_node(schedule)


def _without_last_node(schedule: Schedule) -> Schedule:
    nodes = schedule.nodes - 1
    kept = {f"n{i}" for i in range(1, nodes + 1)}
    faults = []
    for fault in schedule.faults:
        if fault.kind in KINDS and KINDS[fault.kind].min_nodes > nodes:
            continue
        links = tuple(pair for pair in fault.links if set(pair) <= kept)
        if fault.links and not links:
            continue
        faults.append(replace(fault, links=links))
    return replace(schedule, nodes=nodes, faults=tuple(faults),
                   clock_offsets_ms=schedule.clock_offsets_ms[:nodes],
                   disks_ms=schedule.disks_ms[:nodes])


_SIMPLIFICATIONS: tuple[Callable[[Schedule], Schedule], ...] = (
    lambda s: replace(s, delays_ms=()),
    lambda s: replace(s, disks_ms=()),
    lambda s: replace(s, clock_offsets_ms=()),
    lambda s: replace(s, network=LinkModel(s.network.distribution, s.network.mean_ms)),
)
