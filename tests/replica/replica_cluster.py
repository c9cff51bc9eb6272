"""Helpers for the replica tests: free ports, in-process clusters, node processes."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer

from replica.node import Node

REPO = Path(__file__).resolve().parents[2]


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


class ProcessCluster:
    """Real node processes (``python -m replica``) on 127.0.0.1, plus optional
    fan-out agents. Use as a context manager: every process is killed on exit."""

    def __init__(self, tmp_path: Path, ids: list[str], *, n: int, r: int, w: int,
                 args: tuple[str, ...] = ()) -> None:
        self.tmp_path = tmp_path
        self.ids = ids
        self.quorum = ["--n", str(n), "--r", str(r), "--w", str(w)]
        self.args = list(args)
        ports = free_ports(len(ids))
        self.urls = peer_urls(ids, ports)
        self.peers = ",".join(f"{node}=127.0.0.1:{port}" for node, port in zip(ids, ports,
                                                                                strict=True))
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.agents: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> ProcessCluster:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for proc in [*self.procs.values(), *self.agents]:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)

    def log(self, name: str) -> str:
        return (self.tmp_path / f"{name}.log").read_text()

    def _spawn(self, cmd: list[str], name: str) -> subprocess.Popen[bytes]:
        with open(self.tmp_path / f"{name}.log", "ab") as log:
            return subprocess.Popen(cmd, cwd=REPO, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=log)

    def _spawn_node(self, node: str, extra: tuple[str, ...]) -> None:
        host_port = self.urls[node].removeprefix("http://")
        self.procs[node] = self._spawn(
            [sys.executable, "-m", "replica", "--id", node, "--listen", host_port,
             "--peers", self.peers, *self.quorum, "--data-dir", str(self.tmp_path / node),
             *self.args, *extra], node)

    def start(self, node: str, *extra: str) -> None:
        """Start (or restart) `node`, and wait until it serves."""
        self._spawn_node(node, extra)
        wait_healthy(self.urls[node], self.procs[node])

    def start_all(self, *extra: str) -> None:
        """Start every node at once (faster than one by one), then wait for each."""
        for node in self.ids:
            self._spawn_node(node, extra)
        for node in self.ids:
            wait_healthy(self.urls[node], self.procs[node])

    def kill(self, node: str) -> None:
        proc = self.procs.pop(node)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)

    def start_agent(self) -> str:
        """A fan-out agent (client-driven mode); returns its URL."""
        port = free_ports(1)[0]
        proc = self._spawn([sys.executable, "-m", "replica.agent", "--listen",
                            f"127.0.0.1:{port}", "--peers", self.peers, *self.quorum],
                           f"agent{len(self.agents)}")
        self.agents.append(proc)
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc)
        return url


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Poll GET /health (bounded in time) until it answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} not healthy after {timeout} s")
