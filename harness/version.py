"""The installed quorumlab's version, as every output names it (one place)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def quorumlab_version() -> str:
    """The distribution's version; a marker when run from a tree that was never installed."""
    try:
        return version("quorumlab")
    except PackageNotFoundError:
        return "0+unknown"
