"""The local backend: replica nodes as processes on 127.0.0.1, no Docker needed.

Each node runs in its own process group (``start_new_session``), so kill,
pause and teardown reach everything it spawned. Node ``i`` reaches node ``j``
only through the link proxy ``i -> j`` (proxy.py): its ``--peers`` entry
for ``j`` is that proxy's address, its own entry is its real address. In client
mode a fan-out agent per node lives at that node's network position: it is
given the node's very peer list, so it suffers the node's partitions. Clients
reach nodes (or agents) directly: a client at node ``p`` adds nothing to what
node ``p`` suffers.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import os
import random
import shlex
import signal
import socket
import subprocess
import sys
import time
import weakref
from collections.abc import Callable, Collection
from pathlib import Path

from harness.backends.base import Backend, ClusterSpec
from harness.backends.local.proxy import LOCALHOST, LinkProxies
from harness.backends.node_commands import NodePlace, agent_command, node_command
from harness.backends.probe import health_answers
from nemesis.capabilities import (
    CapabilityT,
    ClockControl,
    Grudge,
    NetworkFaults,
    ProcessControl,
)

PROJECT_ROOT = Path(__file__).resolve().parents[3]
PORT_RANGE = (20000, 32000)  # below Linux's ephemeral range: no clash with outgoing sockets
EXIT_WAIT_S = 5.0
PR_SET_PDEATHSIG = 1


def free_port(taken: set[int], rng: random.Random) -> int:
    """A port nothing listens on, outside ``taken`` (which it joins)."""
    for _ in range(1000):
        port = rng.randrange(*PORT_RANGE)
        if port in taken:
            continue
        with socket.socket() as probe:
            try:
                probe.bind((LOCALHOST, port))
            except OSError:
                continue
        taken.add(port)
        return port
    raise RuntimeError("no free port found on 127.0.0.1")


class ProxiedNetwork:
    """The local backend's network faults: what its link proxies cut or slow."""

    def __init__(self, links: LinkProxies, nodes: tuple[str, ...]) -> None:
        self._links = links
        self._nodes = frozenset(nodes)

    async def partition(self, grudge: Grudge) -> None:
        unknown = (set(grudge) | set().union(*grudge.values())) - self._nodes
        if unknown:
            raise ValueError(f"grudge names unknown nodes: {', '.join(sorted(unknown))}")
        await self._links.partition(grudge)

    async def heal(self) -> None:
        await self._links.heal()

    async def set_link_delay(self, delay_ms: float, jitter_ms: float = 0.0,
                             loss: float = 0.0) -> None:
        self._links.set_delay(delay_ms / 1000, jitter_ms / 1000, loss)

    async def clear_link_delay(self) -> None:
        self._links.clear_delay()

    async def answers(self, src: str, dsts: Collection[str]) -> dict[str, bool]:
        """GET /health through each link proxy ``src -> dst``, as ``src`` would send it."""
        ports = [self._links.port(src, dst) for dst in dsts]
        replies = await asyncio.gather(*(health_answers(LOCALHOST, port) for port in ports))
        return dict(zip(dsts, replies, strict=True))


class LocalBackend(Backend):
    """Nodes as local processes, links through harness-owned proxies.

    ``proxies=False`` wires nodes to each other directly: nothing between the
    nodes (used to measure what proxies cost), so no network faults either.
    """

    CAPABILITIES = frozenset({ProcessControl, NetworkFaults, ClockControl})

    def __init__(self, spec: ClusterSpec, *, proxies: bool = True) -> None:
        if spec.mode not in ("coordinator", "client"):
            raise ValueError(f"unknown mode {spec.mode!r}; choose coordinator or client")
        super().__init__(spec)
        self.use_proxies = proxies
        self._rng = random.Random()
        self._ports: dict[str, int] = {}
        self._agent_ports: dict[str, int] = {}
        self._peers: dict[str, str] = {}
        self._nodes: dict[str, subprocess.Popen[bytes]] = {}
        self._every_process: list[subprocess.Popen[bytes]] = []
        self._paused: set[str] = set()
        self._links = LinkProxies()
        self._network = ProxiedNetwork(self._links, spec.nodes) if proxies else None
        _LIVE.add(self)

    def capability(self, kind: type[CapabilityT]) -> CapabilityT | None:
        if kind is NetworkFaults:
            return self._network  # type: ignore[return-value]
        return super().capability(kind)

    # paths
    def log_path(self, name: str) -> Path:
        return self.spec.run_dir / "nodes" / f"{name}.log"

    def data_dir(self, node: str) -> Path:
        return self.spec.run_dir / "data" / node

    def clock_file(self, node: str) -> Path:
        return self.spec.run_dir / "data" / f"{node}.clock-offset"

    # lifecycle
    async def setup(self) -> None:
        spec = self.spec
        try:
            (spec.run_dir / "nodes").mkdir(parents=True, exist_ok=True)
            taken: set[int] = set()
            for node in spec.nodes:
                self._ports[node] = free_port(taken, self._rng)
                self.data_dir(node).mkdir(parents=True, exist_ok=True)
                await self.skew_clock(node, 0.0)
                if spec.mode == "client":
                    self._agent_ports[node] = free_port(taken, self._rng)
            for src in spec.nodes:
                entries = []
                for dst in spec.nodes:
                    port = self._ports[dst]
                    if src != dst and self.use_proxies:
                        port = await self._links.add(src, dst, (LOCALHOST, self._ports[dst]),
                                                     free_port(taken, self._rng))
                    entries.append(f"{dst}={LOCALHOST}:{port}")
                self._peers[src] = ",".join(entries)
            for node in spec.nodes:
                self._nodes[node] = self._spawn(node, self._node_cmd(node))
            if spec.mode == "client":
                for node in spec.nodes:
                    self._spawn(f"agent-{node}", self._agent_cmd(node))
        except BaseException:
            await self.teardown()
            raise

    async def teardown(self) -> None:
        for proc in self._every_process:
            kill_group(proc, signal.SIGKILL)
        for proc in self._every_process:
            await _reap(proc)
        self._paused.clear()
        await self._links.close()
        _LIVE.discard(self)

    def pids(self) -> list[int]:
        """Process ids of every node and agent process still running."""
        return [p.pid for p in self._every_process if _running(p)]

    # addresses
    def public_url(self, node: str) -> str:
        return f"http://{LOCALHOST}:{self._ports[node]}"

    def client_url(self, home: str) -> str:
        if self.spec.mode == "client":
            return f"http://{LOCALHOST}:{self._agent_ports[home]}"
        return self.public_url(home)

    # process faults
    async def kill(self, node: str) -> None:
        proc = self._nodes[node]
        kill_group(proc, signal.SIGKILL)
        await self._links.set_target_up(node, False)
        await _reap(proc)
        self._paused.discard(node)

    async def start(self, node: str) -> None:
        if _running(self._nodes[node]):
            return
        await self.kill(node)  # reap it, and whatever it left in its group
        self._nodes[node] = self._spawn(node, self._node_cmd(node))
        await self._links.set_target_up(node, True)

    async def pause(self, node: str) -> None:
        if _running(self._nodes[node]):
            kill_group(self._nodes[node], signal.SIGSTOP)
            self._paused.add(node)

    async def resume(self, node: str) -> None:
        if node in self._paused:
            kill_group(self._nodes[node], signal.SIGCONT)
            self._paused.discard(node)

    # clock
    async def skew_clock(self, node: str, offset_s: float) -> None:
        path = self.clock_file(node)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(f"{offset_s}\n")
        tmp.replace(path)  # atomic: the node never reads half a number

    # commands
    def _node_cmd(self, node: str) -> list[str]:
        return node_command(self.spec, sys.executable, NodePlace(
            node, f"{LOCALHOST}:{self._ports[node]}", self._peers[node],
            str(self.data_dir(node)), str(self.clock_file(node))))

    def _agent_cmd(self, home: str) -> list[str]:
        return agent_command(self.spec, sys.executable,
                             f"{LOCALHOST}:{self._agent_ports[home]}", self._peers[home])

    def _spawn(self, name: str, cmd: list[str]) -> subprocess.Popen[bytes]:
        env = {**os.environ, **self.spec.extra_env, "PYTHONUNBUFFERED": "1"}
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(PROJECT_ROOT), env.get("PYTHONPATH", "")) if p)
        with open(self.log_path(name), "ab") as log:
            log.write(f"--- quorumlab: starting {name}: {shlex.join(cmd)}\n".encode())
            log.flush()
            try:
                proc = subprocess.Popen(
                    cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                    cwd=self.spec.run_dir, env=env, start_new_session=True,
                    preexec_fn=die_with_parent(os.getpid()))
            except OSError as exc:
                raise RuntimeError(f"cannot start {name}: {exc}") from None
        self._every_process.append(proc)
        return proc


def die_with_parent(parent: int) -> Callable[[], None]:
    """In the child before exec: get SIGKILL when the harness dies, even by
    SIGKILL (Linux PR_SET_PDEATHSIG), so a killed harness leaves no node behind."""

    def arm() -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the harness died before the line above
            os._exit(1)

    return arm


def _running(proc: subprocess.Popen[bytes]) -> bool:
    """Whether ``proc`` has not exited, without reaping it.

    Processes are reaped only by :func:`_reap`, after their group was killed:
    an unreaped leader (even a zombie) keeps its pid, so signalling its
    process group can never hit an unrelated process that reused the number.
    """
    if proc.returncode is not None:
        return False
    try:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
    except ChildProcessError:
        return False


def kill_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Signal the process group ``proc`` leads, unless ``proc`` was reaped."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)


async def _reap(proc: subprocess.Popen[bytes]) -> None:
    """Wait (bounded) until a killed process has exited and is reaped."""
    deadline = time.monotonic() + EXIT_WAIT_S
    while proc.poll() is None and time.monotonic() < deadline:
        await asyncio.sleep(0.005)


# A safety net: if the interpreter exits without teardown (an unexpected error
# in the caller), no node outlives it.
_LIVE: weakref.WeakSet[LocalBackend] = weakref.WeakSet()


@atexit.register
def _kill_leftovers() -> None:
    for backend in list(_LIVE):
        for proc in backend._every_process:
            kill_group(proc, signal.SIGKILL)
