"""Checker results: a verdict plus details, combinable across checkers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Verdict = bool | Literal["unknown"]


def combine(verdicts: list[Verdict]) -> Verdict:
    """Conjunction of verdicts: false beats unknown beats true."""
    if any(v is False for v in verdicts):
        return False
    if any(v == "unknown" for v in verdicts):
        return "unknown"
    return True


@dataclass
class Anomaly:
    """One anomaly a checker found, explained in plain words."""

    kind: str
    key: str | None
    explanation: str
    ops: list[int] = field(default_factory=list)  # invoke indexes of the ops involved
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class CheckResult:
    """What one checker concluded about one history."""

    checker: str
    valid: Verdict
    anomalies: list[Anomaly] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
