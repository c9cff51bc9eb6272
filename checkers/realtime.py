"""Real-time order between ops, kept transitively reduced.

Op ``a`` precedes ``b`` in real time when ``a`` completed before ``b`` was invoked.
Event indexes are the recording order, so the test is
``a.complete_index < b.invoke_index`` (times only label the explanations).
Listing all such pairs is O(n²); the transitive reduction keeps only the edges
not implied by a chain ``a -> c -> b``, which is about the concurrency per op.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from itertools import accumulate

from checkers.history import Op


def completed(op: Op) -> bool:
    """Only ``ok`` ops have a known completion; ``info`` ones may still be in flight."""
    return op.type == "ok" and op.complete_index is not None


def reduced_realtime_edges(ops: Iterable[Op]) -> Iterator[tuple[Op, Op]]:
    """Yield the transitive reduction of the real-time order among ``ops``.

    For ``b``, let ``T`` be the latest invocation among ops completed before ``b``
    began. Every op completed before ``T`` precedes that op, which precedes ``b``,
    so ``b``'s direct predecessors are exactly the ops completed after ``T`` and
    before ``b`` began: a range of the completion order found by bisection.
    """
    ops = list(ops)
    done = sorted((op for op in ops if completed(op)), key=lambda op: op.complete_index)
    if not done:
        return
    complete_at = [op.complete_index for op in done]
    latest_invoke = list(accumulate((op.invoke_index for op in done), max))
    for b in ops:
        end = bisect_left(complete_at, b.invoke_index)
        if end == 0:
            continue
        start = bisect_right(complete_at, latest_invoke[end - 1])
        for a in done[start:end]:
            yield a, b
