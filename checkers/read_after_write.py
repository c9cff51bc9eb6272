"""Read-after-write: a read returns the last acknowledged write, or a newer one.

This is the guarantee that S3 stores such as Garage and AWS ("strong
read-after-write consistency") make, and it is weaker than linearizability: a
write still in progress may be seen by one read and missed by a later one,
and two concurrent writes may be seen in either order. A system that claims
only this must be judged by it, or every such (allowed) history is a false
alarm. Garage's own Jepsen suite says the same: its linearizable-register test
is expected to fail, and its read-after-write test is the one that must pass.

Without the store's versions, "newer" is decided by real time alone, which
makes every anomaly certain: a read R returning the value of write A is stale
when some write B was acknowledged before R began and B began after A was
acknowledged. Then B is newer than A in any order the store may have chosen
(Garage stamps a write above every stamp a read quorum holds, and A's stamp
is on a write quorum), so R had to return B's value or a newer one. Writes
that overlap in time may be ordered either way, so a read choosing between
them is never called stale. A read of nothing after an acknowledged write is
stale too; a value no write could have put there is a phantom.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from checkers.history import (
    FINAL_READ,
    UNKNOWN_VALUE,
    WRITE_FUNCTIONS,
    History,
    Op,
    freeze,
)
from checkers.labels import op_label
from checkers.result import Anomaly, CheckResult

NAME = "read-after-write"


@dataclass
class _Acknowledged:
    """A key's ok writes by completion, with the latest-starting one so far."""

    completions: list[int]  # complete_index, ascending
    latest_start: list[Op]  # per prefix: the write that began last among them


def check_read_after_write(history: History) -> CheckResult:
    """Stale reads and phantoms under read-after-write, by real time only."""
    writes: dict[Any, list[Op]] = defaultdict(list)
    reads: list[Op] = []
    for op in history.ops:
        if op.f == FINAL_READ or not isinstance(op.process, int):
            continue
        if op.f in WRITE_FUNCTIONS or op.f == "cas":
            writes[op.key].append(op)
        elif op.f == "read" and op.type == "ok" and op.value is not UNKNOWN_VALUE:
            reads.append(op)  # a read whose value the client never learned says nothing
    acknowledged = {key: _acknowledged(ops) for key, ops in writes.items()}
    by_value: dict[tuple[Any, Any], list[Op]] = defaultdict(list)
    for key, ops in writes.items():
        for op in ops:
            if op.type != "fail":  # a failed write did not happen
                by_value[(key, freeze(_written(op)))].append(op)
    anomalies = [anomaly for read in reads
                 if (anomaly := _judge(read, by_value, acknowledged.get(read.key))) is not None]
    details = {"reads": len(reads), "writes": sum(map(len, writes.values()))}
    return CheckResult(checker=NAME, valid=not anomalies, anomalies=anomalies, details=details)


def _acknowledged(ops: list[Op]) -> _Acknowledged:
    done = sorted((op for op in ops if op.type == "ok" and op.complete_index is not None),
                  key=lambda op: op.complete_index or 0)
    latest: list[Op] = []
    for op in done:
        latest.append(op if not latest or op.invoke_index > latest[-1].invoke_index
                      else latest[-1])
    return _Acknowledged([op.complete_index or 0 for op in done], latest)


def _judge(read: Op, by_value: dict[tuple[Any, Any], list[Op]],
           acknowledged: _Acknowledged | None) -> Anomaly | None:
    newest = _latest_started_before(acknowledged, read.invoke_index)
    if read.value is None:
        if newest is None:
            return None
        return _stale(read, None, newest)
    candidates = [w for w in by_value.get((read.key, freeze(read.value)), ())
                  if w.invoke_index < (read.complete_index or read.invoke_index)]
    if not candidates:
        return Anomaly("phantom", read.key,
                       f"{op_label(read)} returned {read.value!r}, which no write of "
                       f"{read.key} had begun to write", ops=[read.invoke_index])
    if newest is None:
        return None
    # Stale only if every write of that value was acknowledged before `newest` began
    # (an unacknowledged one may take effect at any time).
    if all(w.type == "ok" and w.complete_index is not None
           and w.complete_index < newest.invoke_index for w in candidates):
        return _stale(read, candidates[0], newest)
    return None


def _latest_started_before(acknowledged: _Acknowledged | None, index: int) -> Op | None:
    """Of the writes acknowledged before history index ``index``, the one that began last."""
    if acknowledged is None:
        return None
    count = bisect.bisect_left(acknowledged.completions, index)
    return acknowledged.latest_start[count - 1] if count else None


def _stale(read: Op, returned: Op | None, newer: Op) -> Anomaly:
    what = (f"{read.value!r}, written by {op_label(returned)}" if returned is not None
            else "nothing (the key's initial state)")
    explanation = (f"{op_label(read)} returned {what}; but {op_label(newer)} was "
                   f"acknowledged before the read began"
                   + (", and began after that write was acknowledged" if returned else "")
                   + f", so read-after-write requires {_written(newer)!r} or a newer value")
    ops = [read.invoke_index, newer.invoke_index]
    if returned is not None:
        ops.insert(1, returned.invoke_index)
    return Anomaly("stale-read", read.key, explanation, ops=ops)


def _written(op: Op) -> Any:
    """The value a write or cas leaves (a cas's value is [old, new])."""
    if op.f == "cas" and isinstance(op.value, list) and len(op.value) == 2:
        return op.value[1]
    return op.value

