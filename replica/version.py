"""Versions: (counter, writer), totally ordered by counter, then writer.

A writer id is unique per incarnation (``n:<node>:<boot>`` for a coordinator,
``c:<uuid>`` for a client), so two distinct writes never share a version unless
a bug makes them (the ``local-version`` switch).
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Version(NamedTuple):
    """A write's version; tuple order is the version order."""

    counter: int
    writer: str

    def to_json(self) -> list[Any]:
        return [self.counter, self.writer]

    @classmethod
    def from_json(cls, raw: Any) -> Version:
        """Parse ``[counter, "writer"]``; ValueError on anything else."""
        if (
            not isinstance(raw, list)
            or len(raw) != 2
            or type(raw[0]) is not int
            or raw[0] < 0
            or not isinstance(raw[1], str)
            or not raw[1]
        ):
            raise ValueError("version must be [counter >= 0, non-empty writer string]")
        return cls(raw[0], raw[1])


def version_json(version: Version | None) -> list[Any] | None:
    return None if version is None else version.to_json()
