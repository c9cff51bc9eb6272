"""Errors a quorum operation reports to its caller."""

from __future__ import annotations


class QuorumError(Exception):
    """A read or write did not reach its quorum.

    ``definite`` is True only when the operation certainly had no effect (a write
    that reached no replica); otherwise a replica may hold the write and
    anti-entropy may spread it later, so the caller must record it as unknown.
    """

    def __init__(self, message: str, definite: bool) -> None:
        super().__init__(message)
        self.message = message
        self.definite = definite
