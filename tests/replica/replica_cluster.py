"""Helpers for the replica tests: free ports and in-process clusters."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer

from replica.node import Node


def free_ports(count: int) -> list[int]:
    """Ports free right now on 127.0.0.1 (held open together so they differ)."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            socks.append(sock)
        return [sock.getsockname()[1] for sock in socks]
    finally:
        for sock in socks:
            sock.close()


def peer_urls(ids: list[str], ports: list[int]) -> dict[str, str]:
    return {node: f"http://127.0.0.1:{port}" for node, port in zip(ids, ports, strict=True)}


@contextlib.asynccontextmanager
async def inprocess_cluster(tmp_path: Path, ids: list[str], *, start: list[str] | None = None,
                            **node_args: Any) -> AsyncIterator[dict[str, Node]]:
    """Nodes of `ids` (only those in `start` actually run) served in this process."""
    ports = free_ports(len(ids))
    peers = peer_urls(ids, ports)
    nodes: dict[str, Node] = {}
    servers: list[TestServer] = []
    try:
        for node_id, port in zip(ids, ports, strict=True):
            if start is not None and node_id not in start:
                continue
            node = await Node.start(node_id, peers, data_dir=tmp_path / node_id, **node_args)
            nodes[node_id] = node
            server = TestServer(node.app(), host="127.0.0.1", port=port)
            await server.start_server()
            servers.append(server)
        yield nodes
    finally:
        for server in servers:
            await server.close()
        for node in nodes.values():
            await node.close()
