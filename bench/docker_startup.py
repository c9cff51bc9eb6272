"""Time to a healthy 5-node reference-replica cluster on the Docker backend.

    python bench/docker_startup.py [--cold] [--nodes 5]

--cold first removes the cached images (quorumlab-replica:*, quorumlab-base:*),
so the time includes bootstrapping the base and building the replica image.
Prints one line per phase; the numbers go into BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import docker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.backends.base import ClusterSpec
from harness.backends.docker import DockerBackend
from harness.backends.docker.image import ensure_image
from harness.backends.docker.progress import Progress


async def wait_healthy(urls: list[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1)) as session:
        for url in urls:
            while True:
                try:
                    async with session.get(url + "/health") as resp:
                        if resp.status == 200:
                            break
                except (TimeoutError, aiohttp.ClientError):
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"{url} not healthy after {timeout}s")
                await asyncio.sleep(0.05)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true")
    parser.add_argument("--nodes", type=int, default=5)
    args = parser.parse_args()
    client = docker.from_env(timeout=120)
    if args.cold:
        for repo in ("quorumlab-replica", "quorumlab-base"):
            for image in client.images.list(name=repo):
                for tag in image.tags:
                    client.images.remove(tag, force=True)
    start = time.monotonic()
    image = await asyncio.to_thread(ensure_image, "auto", client, Progress(quiet=True))
    built = time.monotonic()
    nodes = tuple(f"n{i + 1}" for i in range(args.nodes))
    q = args.nodes // 2 + 1
    with tempfile.TemporaryDirectory() as tmp:
        spec = ClusterSpec(run_id=f"bench-{int(time.time())}", run_dir=Path(tmp), nodes=nodes,
                           n=args.nodes, r=q, w=q)
        backend = DockerBackend(spec, image=image, client=client)
        try:
            await backend.setup()
            up = time.monotonic()
            await wait_healthy([backend.public_url(n) for n in nodes])
            healthy = time.monotonic()
        finally:
            await backend.teardown()
        down = time.monotonic()
    print(f"image ({'cold' if args.cold else 'warm'}): {built - start:.1f} s")
    print(f"containers created and started: {up - built:.1f} s")
    print(f"all {args.nodes} nodes healthy: {healthy - up:.1f} s")
    print(f"total to a healthy cluster: {healthy - start:.1f} s")
    print(f"teardown: {down - healthy:.1f} s")


if __name__ == "__main__":
    asyncio.run(main())
