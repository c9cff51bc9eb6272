"""Joining freshly started garage servers into one cluster, with no person.

A garage server starts alone: it has a node id (its public key, made at first
start) and knows no peer. The harness then does what an operator would, with
the garage CLI inside each container: read every node's id, connect the first
node to the others, give every node a role in the layout (one zone, equal
capacity) and apply it, create the bucket and import an access key allowed
on it. The layout and tables live in each node's metadata folder on its
volume, so a killed node comes back a member without any of this again.

Every step is retried within one deadline: the CLI answers only once the
server's RPC listener is up, and a layout change only once the nodes see
each other.
"""

from __future__ import annotations

import asyncio
import hashlib
import shlex
import time
from collections.abc import Awaitable, Callable

from harness.systems.garage.client import S3Credentials

CONFIG = "/data/garage.toml"  # written by docker/garage/quorumlab-garage
PEERS_FILE = "/data/bootstrap-peers"  # id@ip:port lines; the start script reads them
RPC_PORT = 3901
ZONE = "dc1"
CAPACITY = "1G"
BUCKET = "quorumlab"
RETRY_S = 0.5

Exec = Callable[[str, str], Awaitable[str]]  # (node, shell script) -> output; raises on failure


class BootstrapError(RuntimeError):
    """The cluster could not be joined in time; the message says at which step."""


def run_secrets(run_id: str) -> tuple[str, S3Credentials]:
    """The run's RPC secret and S3 key, derived from its id: a test cluster on a
    private network needs no secrecy, and a restarted node gets the same ones."""
    def hexdigest(label: str) -> str:
        return hashlib.sha256(f"{label}:{run_id}".encode()).hexdigest()

    credentials = S3Credentials(access_key="GK" + hexdigest("key")[:24],
                                secret_key=hexdigest("secret"), bucket=BUCKET)
    return hexdigest("rpc"), credentials


def cli(*args: str) -> str:
    return shlex.join(["garage", "-c", CONFIG, *args])


async def bootstrap(nodes: list[str], ips: dict[str, str], credentials: S3Credentials,
                    run: Exec, limit: float) -> dict[str, str]:
    """Join ``nodes`` into one cluster; their garage node ids by node."""
    deadline = time.monotonic() + limit

    async def retried(step: str, node: str, script: str) -> str:
        while True:
            try:
                return await run(node, script)
            except Exception as exc:  # the CLI's own failure text is in the message
                if time.monotonic() > deadline:
                    raise BootstrapError(f"garage bootstrap: {step} on {node}: {exc}") from None
            await asyncio.sleep(RETRY_S)

    outputs = await asyncio.gather(*(retried("node id", node, cli("node", "id", "-q"))
                                     for node in nodes))
    ids = {node: out.strip().splitlines()[-1].split("@", 1)[0]
           for node, out in zip(nodes, outputs, strict=True)}
    first, others = nodes[0], nodes[1:]
    for node in others:
        await retried("node connect", first,
                      cli("node", "connect", f"{ids[node]}@{ips[node]}:{RPC_PORT}"))
    # The servers persist whom they know only now and then (not within a young
    # cluster's first minute): a cluster whose every node is killed at once
    # would come back as strangers. bootstrap_peers, read at each start, is
    # what a real deployment has for that.
    peers = "\n".join(f"{ids[node]}@{ips[node]}:{RPC_PORT}" for node in nodes)
    await asyncio.gather(*(retried("bootstrap peers", node,
                                   f"printf '%s\\n' {shlex.quote(peers)} > {PEERS_FILE}")
                           for node in nodes))
    for node in nodes:
        await retried("layout assign", first,
                      # The id first: -t takes every word after it as a tag.
                      cli("layout", "assign", ids[node], "-z", ZONE, "-c", CAPACITY, "-t", node))
    await retried("layout apply", first, cli("layout", "apply", "--version", "1"))
    await retried("bucket create", first, cli("bucket", "create", credentials.bucket))
    await retried("key import", first, cli("key", "import", "--yes", "-n", "quorumlab",
                                           credentials.access_key, credentials.secret_key))
    await retried("bucket allow", first, cli("bucket", "allow", "--read", "--write", "--owner",
                                             credentials.bucket, "--key",
                                             credentials.access_key))
    return ids
