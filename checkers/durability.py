"""Durability and convergence, judged on the final phase's per-node reads.

After faults are healed and anti-entropy has run, the harness reads every key
on every node directly (``final-read`` ops) and reports how long the replicas
took to agree (a ``quiesce`` info event). Two questions follow, both by
comparing versions, so this checker needs a store that reports them:

- durability: is every acknowledged write at or below the newest copy any node
  holds? An acknowledged write above it is lost everywhere.
- convergence: do all nodes hold the same (value, version) per key, and did
  anti-entropy say it converged, in how long?

A live session (`quorumlab cluster check --final`) may run the final phase
more than once, with ops between: each node's last final read of a key is its
copy, and only writes acknowledged before those reads began are judged by
them (a later one is counted, not called lost).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from checkers.history import (
    FINAL,
    FINAL_READ,
    QUIESCE,
    WRITE_FUNCTIONS,
    History,
    Op,
    version_key,
)
from checkers.labels import op_label
from checkers.labels import version_text as _v
from checkers.result import Anomaly, CheckResult

NAME = "durability"


def has_final_phase(history: History) -> bool:
    return any(op.f == FINAL_READ for op in history.ops)


def check_durability(history: History) -> CheckResult:
    """Lost acknowledged writes, diverging replicas and the convergence time."""
    latest: dict[Any, dict[str | None, Op]] = defaultdict(dict)  # key -> node -> last read
    acknowledged: dict[Any, list[Op]] = defaultdict(list)
    for op in history.ops:
        if op.f == FINAL_READ:
            latest[op.key][op.node] = op
        elif op.f in WRITE_FUNCTIONS and op.type == "ok" and op.version is not None:
            acknowledged[op.key].append(op)
    copies = {key: held for key, nodes in latest.items()
              if (held := {node: op for node, op in nodes.items() if op.type == "ok"})}
    unanswered = {key: {node for node, op in nodes.items() if op.type != "ok"}
                  for key, nodes in latest.items()}
    quiesce = _quiesce(history)
    details: dict[str, Any] = {"keys": len(copies)}
    if quiesce is not None:
        details["converged"] = quiesce.get("converged")
        details["convergence_seconds"] = quiesce.get("seconds")
    if not copies:
        details["reason"] = "the history has no final reads (no final phase ran)"
        return CheckResult(checker=NAME, valid="unknown", details=details)
    # A key no final phase read is judged as of the first one (it held nothing then).
    first_final = min(op.invoke_index for nodes in latest.values() for op in nodes.values())
    anomalies: list[Anomaly] = []
    later = 0
    for key, writes in acknowledged.items():
        if unanswered.get(key, set()):
            continue  # a replica that did not answer may hold the write: unknown, not lost
        began = min((op.invoke_index for op in latest.get(key, {}).values()),
                    default=first_final)
        judged = [w for w in writes if w.complete_index is not None and w.complete_index < began]
        later += len(writes) - len(judged)
        anomalies.extend(_lost_writes(key, judged, copies.get(key, {})))
    if later:
        details["writes_after_final"] = later
    for key, nodes in copies.items():
        anomaly = _divergence(key, nodes)
        if anomaly is not None:
            anomalies.append(anomaly)
    if quiesce is not None and quiesce.get("converged") is False:
        anomalies.append(Anomaly(
            kind="not-converged", key=None,
            explanation=f"replicas still disagreed after {quiesce.get('seconds')} s of "
                        "anti-entropy once faults were healed",
        ))
    unconfirmed = {str(k): sorted(map(str, nodes)) for k, nodes in unanswered.items() if nodes}
    if unconfirmed:
        details["unanswered_final_reads"] = unconfirmed
    valid: bool | str = False if anomalies else ("unknown" if unconfirmed else True)
    return CheckResult(checker=NAME, valid=valid, anomalies=anomalies, details=details)


def _quiesce(history: History) -> dict[str, Any] | None:
    for event in reversed(history.events):
        if (event.process == FINAL and event.f == QUIESCE and event.type == "info"
                and isinstance(event.value, dict)):
            return event.value
    return None


def _lost_writes(key: Any, writes: list[Op], nodes: dict[str | None, Op]) -> list[Anomaly]:
    newest = max(nodes.values(), key=lambda op: version_key(op.version), default=None)
    final_version = None if newest is None else newest.version
    lost: list[Anomaly] = []
    for write in writes:
        if final_version is None or write.version > final_version:
            held = ("no node holds the key" if newest is None or final_version is None
                    else f"the newest copy, on {newest.node}, has version "
                         f"{_v(final_version)} ({newest.value!r}, final-read "
                         f"#{newest.invoke_index})")
            lost.append(Anomaly(
                kind="lost-write", key=key, ops=[write.invoke_index],
                explanation=f"{op_label(write)} of {write.value!r} was "
                            f"acknowledged with version {_v(write.version)}, but after the "
                            f"final phase {held}",
            ))
    return lost


def _divergence(key: Any, nodes: dict[str | None, Op]) -> Anomaly | None:
    states = {(repr(op.value), op.version) for op in nodes.values()}
    if len(states) <= 1:
        return None
    held = "; ".join(f"{node}: {op.value!r} version {_v(op.version)}"
                     for node, op in sorted(nodes.items(), key=lambda item: str(item[0])))
    return Anomaly(kind="divergence", key=key, ops=[op.invoke_index for op in nodes.values()],
                   explanation=f"replicas of {key} disagree after the final phase: {held}")
