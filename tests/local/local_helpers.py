"""Helpers shared by the local backend tests: process checks via /proc, HTTP."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp

from harness.backends.local import LocalBackend
from nemesis.capabilities import NetworkFaults


def alive(pid: int) -> bool:
    """A process exists and is not a zombie (read from /proc, no psutil)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def group_members(pgids: set[int]) -> list[int]:
    """Live processes whose process group is one of ``pgids``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if fields[0] != "Z" and int(fields[2]) in pgids:
                found.append(int(entry.name))
    return found


async def get(session: aiohttp.ClientSession, url: str, timeout: float = 2.0):
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=timeout)) as reply:
        return reply.status, await reply.json()


async def put(session: aiohttp.ClientSession, url: str, value: str, timeout: float = 2.0):
    async with session.put(url, json={"value": value},
                           timeout=aiohttp.ClientTimeout(total=timeout)) as reply:
        return reply.status, await reply.json()


async def wait_healthy(backend: LocalBackend, session: aiohttp.ClientSession,
                       urls: list[str] | None = None) -> None:
    """Poll /health of every node (or ``urls``) for at most 10 s."""
    deadline = time.monotonic() + 10
    for url in urls or [backend.public_url(n) for n in backend.spec.nodes]:
        while True:
            try:
                if (await get(session, url + "/health", 0.5))[0] == 200:
                    break
            except (aiohttp.ClientError, TimeoutError):
                pass
            assert time.monotonic() < deadline, f"{url} never became healthy"
            await asyncio.sleep(0.05)


def network(backend: LocalBackend) -> NetworkFaults:
    """The backend's network faults (its link proxies), which these tests need."""
    faults = backend.capability(NetworkFaults)
    assert faults is not None, "the backend offers no network faults"
    return faults
