"""Anti-entropy: find and exchange the records two replicas disagree on (sans-I/O).

Keys fall into ``BUCKETS`` buckets by hash; a bucket's digest is the XOR of its
records' hashes of (key, version), so it is independent of order. One exchange,
started by node A with peer B over the keys both replicate:

1. A sends its digests (``DigestRequest``).
2. B answers which buckets differ and its records in them (``respond``).
3. A applies what is newer, and sends B its own records in those buckets
   (``Exchange.on_reply``); B applies what is newer.

Each side keeps only versions newer than its own, so the exchange is safe to
repeat and to run concurrently with writes. Only this module's callers do I/O
(the node over HTTP, the simulator under virtual time); when to exchange and
with whom (``next_exchange``) and over which keys (``shared_rows``) are
decided here too.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from replica.placement import preference_list
from replica.records import Record
from replica.version import Version

BUCKETS = 64
EXCHANGE_TIMEOUT = 5.0  # seconds; an exchange may move many records: longer than a quorum request

Row = tuple[str, str, Version]  # key, value JSON, version


def _hash(key: str, version: Version) -> int:
    data = f"{key}\x00{version.counter}\x00{version.writer}".encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def bucket_of(key: str) -> int:
    return hashlib.blake2b(key.encode(), digest_size=2).digest()[0] % BUCKETS


def digest(rows: Iterable[Row]) -> list[str]:
    """Per-bucket digests (hex) of the given records."""
    acc = [0] * BUCKETS
    for key, _, version in rows:
        acc[bucket_of(key)] ^= _hash(key, version)
    return [f"{x:016x}" for x in acc]


def shared_rows(records: Iterable[tuple[str, Record]], peer: str, nodes: Sequence[str],
                n: int) -> list[Row]:
    """A node's records of the keys that ``peer`` replicates too."""
    return [(key, rec.value_json, rec.version) for key, rec in records
            if peer in preference_list(key, nodes, n)]


def next_exchange(interval: float, others: Sequence[str],
                  rng: random.Random) -> tuple[float, str]:
    """(seconds to wait, peer) of a node's next exchange: jittered, so that nodes
    do not exchange in lockstep, with a random peer."""
    return interval * rng.uniform(0.5, 1.5), rng.choice(others)


def in_buckets(rows: Iterable[Row], buckets: Iterable[int]) -> list[Row]:
    wanted = set(buckets)
    return [row for row in rows if bucket_of(row[0]) in wanted]


def rows_to_json(rows: Iterable[Row]) -> list[list[Any]]:
    return [[key, value, version.to_json()] for key, value, version in rows]


def rows_from_json(raw: Any) -> list[Row]:
    """Parse ``[[key, value_json, [counter, writer]], ...]``; ValueError if malformed."""
    if not isinstance(raw, list):
        raise ValueError("records must be a list")
    rows: list[Row] = []
    for item in raw:
        if not (isinstance(item, list) and len(item) == 3 and isinstance(item[0], str)
                and isinstance(item[1], str)):
            raise ValueError("each record must be [key, value JSON text, version]")
        rows.append((item[0], item[1], Version.from_json(item[2])))
    return rows


@dataclass(frozen=True)
class DigestReply:
    differing: list[int]
    rows: list[Row]

    def to_json(self) -> dict[str, Any]:
        return {"differing": self.differing, "records": rows_to_json(self.rows)}

    @classmethod
    def from_json(cls, raw: Any) -> DigestReply:
        if not isinstance(raw, dict) or not isinstance(raw.get("differing"), list):
            raise ValueError("digest reply must be {differing, records}")
        differing = [b for b in raw["differing"] if isinstance(b, int) and 0 <= b < BUCKETS]
        return cls(differing, rows_from_json(raw.get("records")))


def respond(rows: list[Row], their_digest: Any) -> DigestReply:
    """B's side of step 2: which buckets differ from `their_digest`, and B's rows there."""
    if not (isinstance(their_digest, list) and len(their_digest) == BUCKETS):
        raise ValueError(f"digest must be a list of {BUCKETS} bucket hashes")
    mine = digest(rows)
    differing = [i for i, (a, b) in enumerate(zip(mine, their_digest, strict=True)) if a != b]
    return DigestReply(differing, in_buckets(rows, differing))


class Exchange:
    """A's side of one exchange, over A's rows shared with the peer."""

    def __init__(self, rows: list[Row]) -> None:
        self.rows = rows

    def start(self) -> list[str]:
        """The digest to send (step 1)."""
        return digest(self.rows)

    def on_reply(self, reply: DigestReply) -> tuple[list[Row], list[Row]]:
        """Step 3: (rows to apply locally, rows to push to the peer)."""
        return reply.rows, in_buckets(self.rows, reply.differing)
