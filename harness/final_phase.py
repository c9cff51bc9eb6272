"""The final phase: wait for anti-entropy to converge, then read every key on
every node's internal API, then a quorum read of every key.

Everything here runs after all faults are healed, so the checkers can tell
a lost write (absent from the converged state) from one still in flight.

Only a key's replicas are read: with n smaller than the cluster, the replica
API's placement (rendezvous hashing, ``replica.placement``) says which nodes
hold the key; the others never should.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import aiohttp

from checkers.history import FINAL, FINAL_READ, QUIESCE
from harness.client import NodeClient, store_version
from harness.recorder import Recorder
from replica.placement import preference_list

POLL_INTERVAL = 0.2
FINAL_READ_TRIES = 3

Copy = tuple[Any, Any]  # (value, version) of one key on one node


async def read_copy(session: aiohttp.ClientSession, base_url: str, key: str,
                    timeout: float) -> Copy | None:
    """One node's own copy of `key`, or None when the node does not answer."""
    url = f"{base_url}/internal/kv/{quote(key, safe='')}"
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as response:
            if response.status != 200:
                return None
            body = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return None
    if not isinstance(body, dict):
        return None
    return body.get("value"), store_version(body.get("version"))


def replica_pairs(urls: dict[str, str], keys: Sequence[str], n: int) -> list[tuple[str, str]]:
    """(node, key) for every key on each of its n replicas."""
    return [(node, key) for key in keys for node in preference_list(key, list(urls), n)]


async def _snapshot(session: aiohttp.ClientSession, urls: dict[str, str],
                    keys: Sequence[str], n: int,
                    timeout: float) -> dict[tuple[str, str], Copy | None]:
    pairs = replica_pairs(urls, keys, n)
    copies = await asyncio.gather(*(read_copy(session, urls[node], key, timeout)
                                    for node, key in pairs))
    return dict(zip(pairs, copies, strict=True))


def converged(snapshot: dict[tuple[str, str], Copy | None], keys: Sequence[str]) -> bool:
    """Every key has one and the same copy on each of its replicas."""
    for key in keys:
        copies = {repr(copy) for (_, k), copy in snapshot.items() if k == key}
        if len(copies) != 1 or repr(None) in copies:
            return False
    return True


async def quiesce(session: aiohttp.ClientSession, urls: dict[str, str], keys: Sequence[str],
                  n: int, recorder: Recorder, limit: float, timeout: float) -> bool:
    """Poll the replicas until all hold the same copy of every key, or `limit` passes."""
    started = time.monotonic()
    agreed = False
    while True:
        snapshot = await _snapshot(session, urls, keys, n, timeout)
        agreed = converged(snapshot, keys)
        if agreed or time.monotonic() - started >= limit:
            break
        await asyncio.sleep(POLL_INTERVAL)
    recorder.record(FINAL, "info", QUIESCE,
                    value={"converged": agreed,
                           "seconds": round(time.monotonic() - started, 3)})
    return agreed


async def final_reads(session: aiohttp.ClientSession, urls: dict[str, str],
                      client_urls: Sequence[str], keys: Sequence[str], n: int,
                      recorder: Recorder, client: NodeClient, timeout: float) -> None:
    """Record each replica's copy of every key, then a quorum read of every key."""
    for node, key in replica_pairs(urls, keys, n):
        recorder.record(FINAL, "invoke", FINAL_READ, key=key, node=node)
        copy = None
        for _ in range(FINAL_READ_TRIES):  # a missing answer would look like a lost copy
            copy = await read_copy(session, urls[node], key, timeout)
            if copy is not None:
                break
        if copy is None:
            recorder.record(FINAL, "fail", FINAL_READ, key=key, node=node, error="no answer")
        else:
            recorder.record(FINAL, "ok", FINAL_READ, key=key, node=node,
                            value=copy[0], version=copy[1])
    for i, key in enumerate(keys):
        url = client_urls[i % len(client_urls)]
        recorder.record(FINAL, "invoke", "read", key=key)
        outcome = await client.read(url, key)
        recorder.record(FINAL, outcome.type, "read", key=key, value=outcome.value,
                        version=outcome.version, error=outcome.error)
