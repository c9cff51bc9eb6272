"""Wing-Gong-Lowe linearizability search for the ops of one key.

The ops' invocations and completions form one time-ordered doubly linked list
of entries. In each configuration (ops linearized so far, model state) the
candidates to linearize next are the invocations before the first completion
still in the list (the *barrier*: that op must be linearized before anything
invoked after it). The search tries a candidate the model allows whose
configuration (linearized set, state) was not seen before, lifts its two
entries out of the list and goes on from the new configuration; when no
candidate is left, the barrier's op cannot be placed after what was chosen, so
it backtracks. The linearized set is an int bitset, so the memo key is a cheap
(ints, state) tuple. Each configuration scans the list once; its
state-changing candidates are kept in a small list that the stack frame
remembers, so resuming after a backtrack does not rescan.

Prunings that keep it fast and stay exact:

- a *pure* op (a read; a failed cas) never changes the state, so once it is
  legal, placing it at once is never worse. Each new configuration is scanned
  for such an op first; if there is one, it is the only branch tried (when it
  leads to a dead end, known from the memo or found by backtracking, the
  configuration is a dead end too);
- an info op has no completion entry (it may take effect at any point after
  its invocation, or never), and of two identical info ops, the one invoked
  first is always used first (swapping them changes nothing);
- the linearized set is stored relative to the lowest op not yet linearized,
  so memo keys stay small however long the history is.
"""

from __future__ import annotations

import bisect
import sys
from collections.abc import Callable, Generator, Hashable, Sequence
from dataclasses import dataclass, field

from checkers.result import Verdict

# Loop iterations between two pauses of a search (a few milliseconds).
SLICE = 1 << 12
# Bytes of one memo entry besides its bitset and state: set slot, tuple, int headers.
ENTRY_OVERHEAD = 150


class _Illegal:
    """The result of a step that the model does not allow in that state."""

    def __repr__(self) -> str:
        return "ILLEGAL"


ILLEGAL = _Illegal()


@dataclass(frozen=True, slots=True)
class Transition:
    """What one op does to a state, prepared once so the hot loop only calls ``step``.

    ``step`` returns the next state or ILLEGAL. An optional (info) op's step is
    ILLEGAL wherever it would change nothing, since taking effect as a no-op is
    the same as never taking effect.
    """

    step: Callable[[Hashable], Hashable]
    pure: bool  # never changes the state: if legal now, placing it now is never worse
    optional: bool  # info: may take effect at any point after invocation, or never
    identity: Hashable  # equal for two ops that step every state alike


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
    last: dict[Hashable, int] = {}
    twins = [-1] * len(transitions)
    for i, transition in enumerate(transitions):
        if transition.optional:
            twins[i] = last.get(transition.identity, -1)
            last[transition.identity] = i
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
    remaining = sum(required)
    if remaining == 0:
        return Outcome(True, 0)

    # The linearized set is kept as (low, rel): every op below position ``low``
    # is linearized, op ``low`` is not, and bit i of ``rel`` is op low + i. The
    # ints stay as small as the window of pending ops, however long the history.
    seen: set[tuple[int, int, Hashable]] = set()
    # A frame: the entry placed, the state, low and rel before it, and for a
    # state-changing op the candidates of the configuration it left, its index
    # there and that configuration's first completion entry (its barrier).
    stack: list[tuple[int, Hashable, int, int, list[int] | None, int, int]] = []
    state, low, rel = initial, 0, 0
    best_depth, record = 0, True
    best: tuple[list[int], Hashable, int] = ([], initial, -1)
    budget = SLICE
    while True:
        # A new configuration. The invocations before the first completion are
        # its candidates: place a legal pure one at once, collect the others.
        candidates: list[int] = []
        dead = False
        entry = nxt[head]
        while not entry & 1:
            budget -= 1
            if not budget:
                budget = SLICE
                yield len(seen) * (ENTRY_OVERHEAD + rel.bit_length() // 8 + sys.getsizeof(state))
            op = entry >> 1
            if not pure[op]:
                candidates.append(entry)
                entry = nxt[entry]
                continue
            new_state = steps[op](state)
            if new_state is ILLEGAL:
                entry = nxt[entry]
                continue
            new_low, new_rel = low, rel | 1 << (op - low)
            if op == low:  # drop the now complete run of linearized ops
                run = (~new_rel & (new_rel + 1)).bit_length() - 1
                new_low, new_rel = low + run, new_rel >> run
            key = (new_low, new_rel, new_state)
            if key in seen:  # placing it leads to a known dead end: so does this
                dead = True
                break
            seen.add(key)
            stack.append((entry, state, low, rel, None, 0, 0))
            state, low, rel = new_state, new_low, new_rel
            ret = entry | 1  # a pure op is never optional: lift both its entries
            nxt[prv[entry]] = nxt[entry]
            prv[nxt[entry]] = prv[entry]
            nxt[prv[ret]] = nxt[ret]
            prv[nxt[ret]] = prv[ret]
            remaining -= 1
            if not remaining:
                return Outcome(True, len(seen))
            if len(stack) > best_depth:
                best_depth, record = len(stack), True
            entry = nxt[prv[entry]]  # same state: the pure ops before it stay illegal
        barrier, index = entry, 0
        while True:
            # Try the state-changing candidates from ``index`` on.
            placed = False
            while not dead and index < len(candidates):
                budget -= 1
                if not budget:
                    budget = SLICE
                    yield len(seen) * (
                        ENTRY_OVERHEAD + rel.bit_length() // 8 + sys.getsizeof(state)
                    )
                entry = candidates[index]
                op = entry >> 1
                twin = twins[op]
                if twin >= low and not rel >> (twin - low) & 1:
                    index += 1  # its identical twin invoked earlier goes first
                    continue
                new_state = steps[op](state)
                if new_state is ILLEGAL:
                    index += 1
                    continue
                new_low, new_rel = low, rel | 1 << (op - low)
                if op == low:
                    run = (~new_rel & (new_rel + 1)).bit_length() - 1
                    new_low, new_rel = low + run, new_rel >> run
                key = (new_low, new_rel, new_state)
                if key in seen:
                    index += 1
                    continue
                seen.add(key)
                stack.append((entry, state, low, rel, candidates, index, barrier))
                state, low, rel = new_state, new_low, new_rel
                nxt[prv[entry]] = nxt[entry]
                prv[nxt[entry]] = prv[entry]
                if required[op]:
                    ret = entry | 1
                    nxt[prv[ret]] = nxt[ret]
                    prv[nxt[ret]] = prv[ret]
                    remaining -= 1
                    if not remaining:
                        return Outcome(True, len(seen))
                if len(stack) > best_depth:
                    best_depth, record = len(stack), True
                placed = True
                break
            if placed:
                break  # on to the new configuration
            if record and not dead:  # the barrier's op cannot be placed: a dead end
                record = False
                best = ([e >> 1 for e, *_ in stack], state, barrier >> 1)
            while True:  # backtrack; a pure op's configuration is dead when the op is
                if not stack:
                    return _failure(best, seen, transitions, order, initial)
                entry, state, low, rel, frame_candidates, index, barrier = stack.pop()
                op = entry >> 1
                if required[op]:
                    ret = entry | 1
                    nxt[prv[ret]] = ret
                    prv[nxt[ret]] = ret
                    remaining += 1
                nxt[prv[entry]] = entry
                prv[nxt[entry]] = entry
                if frame_candidates is not None:
                    break
            candidates, index, dead = frame_candidates, index + 1, False


def _failure(
    best: tuple[list[int], Hashable, int],
    seen: set[tuple[int, int, Hashable]],
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
    must_precede = sorted(entry >> 1 for entry in order[: order.index(2 * blocker)] if entry & 1)
    step = transitions[blocker].step
    tried: set[Hashable] = set()
    for low, rel, state in [(0, 0, initial), *seen]:
        # ops below ``low`` are linearized; test the others' bits in ``rel``
        if blocker < low or rel >> (blocker - low) & 1:
            continue
        pending = must_precede[bisect.bisect_left(must_precede, low):]
        if all(rel >> (op - low) & 1 for op in pending):
            tried.add(state)
    outcome.tried_states = sorted(tried, key=repr)
    outcome.legal_states = [s for s in outcome.tried_states if step(s) is not ILLEGAL]
    return outcome
