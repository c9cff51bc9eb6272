"""Wing-Gong-Lowe linearizability search for the ops of one key.

The ops' invocations and completions form one time-ordered doubly linked list
of entries. The search walks it from the front: at an invocation it tries to
linearize that op next (the model allows it and the pair (linearized set,
state) was not seen before), lifts the op's two entries out of the list and
starts again from the front; at a completion of an op not yet linearized, that
op can no longer be placed after what was chosen, so it backtracks. The
linearized set is an int bitset, so the memo key is a cheap (int, state) pair.

Two prunings keep it fast and stay exact:

- a *pure* op (a read; a failed cas) never changes the state, so once it is
  legal, placing it at once is never worse: when the search backtracks over
  it, the configuration it was placed from is a dead end too;
- an info op has no completion entry (it may take effect at any point after
  its invocation, or never), and of two identical info ops, the one invoked
  first is always used first (swapping them changes nothing).
"""

from __future__ import annotations

import sys
from collections.abc import Generator, Hashable, Sequence
from dataclasses import dataclass, field

from checkers.models import ILLEGAL, Transition
from checkers.result import Verdict

# Loop iterations between two pauses of a search (about 10 ms).
SLICE = 1 << 14
# Bytes of one memo entry besides its bitset and state: set slot, tuple, int header.
ENTRY_OVERHEAD = 150


@dataclass(slots=True)
class Interval:
    """When an op was pending: completion None means never completed (info)."""

    invoke: float
    complete: float | None


@dataclass
class Outcome:
    """What the search concluded for one key.

    On failure ``prefix`` is the longest linearizable prefix found (op positions
    in order), ``blocker`` the op that could not be placed after it and
    ``tried_states`` the states of every configuration in which the blocker was
    free to be placed next.
    """

    valid: Verdict
    configs: int | None  # memo entries; None for a search stopped from outside
    prefix: list[int] = field(default_factory=list)
    prefix_state: Hashable = None
    blocker: int | None = None
    tried_states: list[Hashable] = field(default_factory=list)
    legal_states: list[Hashable] = field(default_factory=list)
    reason: str | None = None


def _entry_order(intervals: Sequence[Interval]) -> list[int]:
    """Entry ids (2i: invocation of op i, 2i+1: completion) in time order.

    At equal times invocations come first, so ops that touch are concurrent.
    """
    entries = []
    for i, span in enumerate(intervals):
        entries.append((span.invoke, 0, 2 * i))
        if span.complete is not None:
            entries.append((span.complete, 1, 2 * i + 1))
    entries.sort()
    return [entry for _, _, entry in entries]


def _twins(transitions: Sequence[Transition]) -> list[int]:
    """For each optional op, the previous identical optional op (-1 if none)."""
    last: dict[str, int] = {}
    twins = [-1] * len(transitions)
    for i, transition in enumerate(transitions):
        if transition.optional:
            twins[i] = last.get(transition.summary, -1)
            last[transition.summary] = i
    return twins


Search = Generator[int, None, Outcome]


def search(
    intervals: Sequence[Interval],
    transitions: Sequence[Transition],
    initial: Hashable,
) -> Search:
    """Decide whether these ops (in ``intervals`` order) have a linearization.

    ``intervals`` must list ops by invocation time, so that "identical info op
    invoked first" is the lower position. A generator: it pauses every SLICE
    steps, yielding an estimate of its memo's size in bytes, so that a caller
    can interleave keys and stop at a time or memory budget; its return value
    is the Outcome.
    """
    count = len(transitions)
    order = _entry_order(intervals)
    head, tail = 2 * count, 2 * count + 1
    nxt = [0] * (2 * count + 2)
    prv = [0] * (2 * count + 2)
    previous = head
    for entry in [*order, tail]:
        nxt[previous] = entry
        prv[entry] = previous
        previous = entry

    steps = [t.step for t in transitions]
    pure = [t.pure for t in transitions]
    required = [not t.optional for t in transitions]
    twins = _twins(transitions)
    bits = [1 << i for i in range(count)]
    remaining = sum(required)
    if remaining == 0:
        return Outcome(True, 0)

    seen: set[tuple[int, Hashable]] = set()
    stack: list[tuple[int, Hashable, int]] = []  # (entry, state before it, linearized before)
    state, linearized = initial, 0
    best_depth, record = 0, True
    best: tuple[list[int], Hashable, int] = ([], initial, -1)
    entry_bytes = ENTRY_OVERHEAD + count // 8
    budget = SLICE
    entry = nxt[head]
    while True:
        budget -= 1
        if not budget:
            budget = SLICE
            yield len(seen) * (entry_bytes + sys.getsizeof(state))
        if not entry & 1:  # an invocation: try to linearize this op next
            op = entry >> 1
            twin = twins[op]
            new_state = ILLEGAL if twin >= 0 and not linearized & bits[twin] else steps[op](state)
            if new_state is not ILLEGAL:
                key = (linearized | bits[op], new_state)
                if key not in seen:
                    seen.add(key)
                    stack.append((entry, state, linearized))
                    state, linearized = new_state, key[0]
                    # lift the op's entries out of the list
                    after = nxt[entry]
                    nxt[prv[entry]] = after
                    prv[after] = prv[entry]
                    if required[op]:
                        ret = entry | 1
                        after = nxt[ret]
                        nxt[prv[ret]] = after
                        prv[after] = prv[ret]
                        remaining -= 1
                        if not remaining:
                            return Outcome(True, len(seen))
                    if len(stack) > best_depth:
                        best_depth, record = len(stack), True
                    entry = nxt[head]
                    continue
            entry = nxt[entry]
            continue
        # a completion of an op not yet linearized: backtrack
        if record:
            record = False
            best = ([e >> 1 for e, _, _ in stack], state, entry >> 1)
        while True:
            if not stack:
                return _failure(best, seen, intervals, transitions, order, initial)
            entry, state, linearized = stack.pop()
            op = entry >> 1
            if required[op]:
                ret = entry | 1
                nxt[prv[ret]] = ret
                prv[nxt[ret]] = ret
                remaining += 1
            nxt[prv[entry]] = entry
            prv[nxt[entry]] = entry
            if not pure[op]:
                break
        entry = nxt[entry]


def _failure(
    best: tuple[list[int], Hashable, int],
    seen: set[tuple[int, Hashable]],
    intervals: Sequence[Interval],
    transitions: Sequence[Transition],
    order: list[int],
    initial: Hashable,
) -> Outcome:
    """Explain a failed search: the deepest prefix, its blocker, where it was tried."""
    prefix, prefix_state, blocker = best
    outcome = Outcome(False, len(seen), prefix=prefix, prefix_state=prefix_state)
    if blocker < 0:
        return outcome
    outcome.blocker = blocker
    # ops whose completion precedes the blocker's invocation must come before it
    must_precede = 0
    for entry in order:
        if entry == 2 * blocker:
            break
        if entry & 1:
            must_precede |= 1 << (entry >> 1)
    mine = 1 << blocker
    step = transitions[blocker].step
    tried: set[Hashable] = set()
    for linearized, state in [(0, initial), *seen]:
        if linearized & must_precede == must_precede and not linearized & mine:
            tried.add(state)
    outcome.tried_states = sorted(tried, key=repr)
    outcome.legal_states = [s for s in outcome.tried_states if step(s) is not ILLEGAL]
    return outcome
