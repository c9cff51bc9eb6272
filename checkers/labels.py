"""Labels for explanations: versions, times and ops, worded the same everywhere."""

from __future__ import annotations

from checkers.history import Op, Version


def version_text(version: Version | None) -> str:
    return "none" if version is None else f"[{version[0]}, {version[1]}]"


def ms_text(ns: int | None) -> str:
    """Nanoseconds since the test started, as milliseconds ("never" when unknown)."""
    return "never" if ns is None else f"{ns / 1e6:.3f} ms"


def op_label(op: Op) -> str:
    """``read #812 (k3)``: the op's function, invoke index and key."""
    return f"{op.f} #{op.invoke_index} ({op.key})"
