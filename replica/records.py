"""What a replica's store decides, sans I/O: which copy wins, when a write
becomes visible, what one commit carries, and what a crash loses.

``replica.storage.Store`` runs this over sqlite and asyncio; the simulator
(``sim/``) runs the very same decisions over a dict standing in for the disk
and virtual time, so durable commit, group commit, the ``async-commit`` bug
(visible and acknowledged before it is durable, lost at a crash) and boots
behave alike in both.

- Highest version wins: a row is kept only if newer than the copy held.
- Durable commit: a newer row waits in the commit queue; it becomes visible
  (and its writer is answered) only once the transaction holding it commits.
- Group commit: all rows waiting when a commit starts share that commit; without
  it every submission gets its own.
- Async commit: a newer row is visible at once and queued for the next
  periodic flush; what is not flushed when the process dies is gone.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from replica.version import Version


@dataclass(frozen=True, slots=True)
class Record:
    """A stored copy: the value as JSON text, and its version."""

    value_json: str
    version: Version


Row = tuple[str, str, Version]  # key, value JSON, version

Waiter = TypeVar("Waiter")

ASYNC_FLUSH_INTERVAL = 1.0  # seconds between the async-commit bug's flushes


class Records(Generic[Waiter]):
    """One replica's visible records and the writes waiting to become durable.

    ``Waiter`` is whatever the runtime answers a submission through once its
    commit is done (an asyncio future, a simulator callback).
    """

    def __init__(self, group_commit: bool = True, async_commit: bool = False) -> None:
        self.group_commit = group_commit
        self.async_commit = async_commit
        self._records: dict[str, Record] = {}
        self._queue: list[tuple[list[Row], Waiter]] = []
        self._unflushed: list[Row] = []

    def load(self, rows: Iterable[Row]) -> None:
        """At boot: what survived on disk (no commit needed)."""
        self.apply(list(rows))

    def get(self, key: str) -> Record | None:
        return self._records.get(key)

    def items(self) -> Iterator[tuple[str, Record]]:
        return iter(list(self._records.items()))

    def __len__(self) -> int:
        return len(self._records)

    def is_newer(self, key: str, version: Version) -> bool:
        current = self._records.get(key)
        return current is None or version > current.version

    def submit(self, rows: Iterable[Row], waiter: Waiter) -> int | None:
        """Offer rows; returns how many were newer when that is already final
        (none, or under async commit), or None when they wait for a commit and
        ``waiter`` will be answered by the runtime after ``committed``."""
        newer = [row for row in rows if self.is_newer(row[0], row[2])]
        if not newer:
            return 0
        if self.async_commit:
            self.apply(newer)
            self._unflushed.extend(newer)
            return len(newer)
        self._queue.append((newer, waiter))
        return None

    @property
    def waiting(self) -> bool:
        """Submissions wait for a commit."""
        return bool(self._queue)

    def next_batch(self) -> tuple[list[Row], list[tuple[int, Waiter]]]:
        """Take what the next transaction commits: its rows, and each waiter
        with how many of its rows were newer (to answer once committed)."""
        if self.group_commit:
            batch, self._queue = self._queue, []
        else:
            batch, self._queue = self._queue[:1], self._queue[1:]
        return [row for rows, _ in batch for row in rows], [(len(r), w) for r, w in batch]

    def committed(self, rows: list[Row]) -> None:
        """The transaction holding ``rows`` is durable: make them visible."""
        self.apply(rows)

    def apply(self, rows: list[Row]) -> None:
        records = self._records
        for key, value_json, version in rows:
            current = records.get(key)
            if current is None or version > current.version:
                records[key] = Record(value_json, version)

    def take_unflushed(self) -> list[Row]:
        """Under async commit: the rows the next flush writes."""
        rows, self._unflushed = self._unflushed, []
        return rows
