"""Durable storage: sqlite3 (WAL, synchronous=FULL) behind an in-memory view.

The memory view serves reads and anti-entropy digests; sqlite is the durable
log. A write becomes visible only after its transaction commits, so a replica
never reports a version it could forget in a crash (except under the
``async-commit`` bug, which is exactly that mistake).

Group commit: writes arriving while a transaction is being committed wait and
then share the next one, so one fsync serves many concurrent writes. With
``group_commit=False`` every write gets its own transaction. What wins, what
waits and what one transaction carries is decided sans I/O in
``replica.records`` (shared with the simulator); this module does the I/O.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from replica.records import ASYNC_FLUSH_INTERVAL, Record, Records, Row
from replica.version import Version

__all__ = ["Record", "Row", "Store"]

log = logging.getLogger("replica.storage")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    counter INTEGER NOT NULL,
    writer TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

# Highest version wins, in one statement: the update happens only if newer.
_UPSERT = """
INSERT INTO kv (key, value, counter, writer) VALUES (?, ?, ?, ?)
ON CONFLICT (key) DO UPDATE SET
    value = excluded.value, counter = excluded.counter, writer = excluded.writer
WHERE (excluded.counter, excluded.writer) > (kv.counter, kv.writer)
"""


class Store:
    """One node's key-value records. Create with ``await Store.open(...)``."""

    def __init__(self, conn: sqlite3.Connection, group_commit: bool,
                 async_commit: bool) -> None:
        self._conn = conn
        self._records: Records[asyncio.Future[int]] = Records(group_commit, async_commit)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._committer: asyncio.Task[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self.boot = 0
        self.commits = 0  # transactions committed (to measure group commit)

    @classmethod
    async def open(cls, data_dir: Path, *, group_commit: bool = True,
                   async_commit: bool = False, amnesia: bool = False) -> Store:
        """Open (creating) the store in `data_dir`; `amnesia` wipes every record."""
        data_dir.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(data_dir / "replica.sqlite3", isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.executescript(_SCHEMA)
        store = cls(conn, group_commit, async_commit)
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            if amnesia:
                conn.execute("DELETE FROM kv")
            conn.execute("INSERT INTO meta VALUES ('boot', 1) "
                         "ON CONFLICT (name) DO UPDATE SET value = value + 1")
        store.boot = conn.execute("SELECT value FROM meta WHERE name = 'boot'").fetchone()[0]
        store._records.load(
            (key, value, Version(counter, writer)) for key, value, counter, writer
            in conn.execute("SELECT key, value, counter, writer FROM kv"))
        if async_commit:
            store._flusher = asyncio.get_running_loop().create_task(store._flush_forever())
        return store

    def get(self, key: str) -> Record | None:
        return self._records.get(key)

    def items(self) -> Iterator[tuple[str, Record]]:
        return self._records.items()

    def __len__(self) -> int:
        return len(self._records)

    async def put(self, key: str, value_json: str, version: Version) -> Version:
        """Store the record if newer; returns the stored version afterwards, once durable."""
        await self.put_many([(key, value_json, version)])
        record = self._records.get(key)
        assert record is not None
        return record.version

    async def put_many(self, rows: Iterable[Row]) -> int:
        """Store every row that is newer than the stored copy; returns how many were."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        final = self._records.submit(rows, future)
        if final is not None:
            return final
        if self._committer is None or self._committer.done():
            self._committer = asyncio.get_running_loop().create_task(self._commit_loop())
        return await future

    async def _commit_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while self._records.waiting:
            rows, waiters = self._records.next_batch()
            try:
                await loop.run_in_executor(self._executor, self._write_rows, rows)
            except Exception as exc:
                log.error("commit of %d writes failed: %s", len(rows), exc)
                for _, future in waiters:
                    if not future.done():
                        future.set_exception(exc)
                continue
            self._records.committed(rows)
            for newer, future in waiters:
                if not future.done():
                    future.set_result(newer)

    def _write_rows(self, rows: list[Row]) -> None:
        """One transaction (runs on the sqlite thread)."""
        with self._conn:
            self._conn.execute("BEGIN IMMEDIATE")
            self._conn.executemany(
                _UPSERT, [(key, value, v.counter, v.writer) for key, value, v in rows])
        self.commits += 1

    async def _flush_forever(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(ASYNC_FLUSH_INTERVAL)
            await self._flush(loop)

    async def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        rows = self._records.take_unflushed()
        if rows:
            await loop.run_in_executor(self._executor, self._write_rows, rows)

    async def close(self) -> None:
        """Finish pending commits (and, under async-commit, the last flush)."""
        if self._flusher is not None:
            self._flusher.cancel()
            await self._flush(asyncio.get_running_loop())
        if self._committer is not None:
            await asyncio.gather(self._committer, return_exceptions=True)
        self._executor.shutdown(wait=True)
        self._conn.close()
