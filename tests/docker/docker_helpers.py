"""Helpers of the Docker tests: bounded waits and in-container probes."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from harness.backends.docker import DockerBackend

PROBE_PORT = 8000

# Run inside a container: median TCP connect time (ms) to HOST PORT, or "timeout".
_CONNECT = """
import socket, statistics, sys, time
host, port, count, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
times = []
for _ in range(count):
    start = time.perf_counter()
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError:
        print("timeout")
        raise SystemExit
    times.append(time.perf_counter() - start)
print(statistics.median(times) * 1000)
"""


async def wait_http(url: str, timeout: float = 30.0) -> None:
    """Poll `url` until it answers 200 (bounded in time)."""
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(url, timeout=aiohttp.ClientTimeout(total=1)) as resp:
                    if resp.status == 200:
                        return
            except (TimeoutError, aiohttp.ClientError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{url} did not answer 200 within {timeout}s")
            await asyncio.sleep(0.1)


async def wait_cluster(backend: DockerBackend, path: str = "/") -> None:
    """Every node answers 200 on `path` through its published port."""
    await asyncio.gather(*(wait_http(backend.public_url(n) + path) for n in backend.spec.nodes))


async def connect_ms(backend: DockerBackend, src: str, dst: str, count: int = 5,
                     timeout: float = 1.0) -> float | None:
    """Median TCP connect time from node `src` to node `dst`; None if one times out."""
    container = backend.client.containers.get(backend.container_name(src))
    argv = [backend.node_ip(dst), str(PROBE_PORT), str(count), str(timeout)]
    code, out = await asyncio.to_thread(container.exec_run, ["python3", "-c", _CONNECT, *argv])
    text = out.decode().strip()
    assert code == 0, text
    return None if text == "timeout" else float(text)


async def exec_out(backend: DockerBackend, node: str, cmd: list[str]) -> str:
    """Output of `cmd` run in `node`'s container (asserting it succeeded)."""
    container = backend.client.containers.get(backend.container_name(node))
    code, out = await asyncio.to_thread(container.exec_run, cmd)
    assert code == 0, out
    return out.decode()
