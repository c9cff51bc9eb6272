"""The ``maelstrom`` system: any program speaking Maelstrom's protocol with the
lin-kv workload (DESIGN.md, "Maelstrom protocol"), N copies on this host, the
harness their network. A node keeps its state in memory only, so after a kill
it starts empty: a program that does not replicate loses what it held, and
the checkers say so."""

from __future__ import annotations

import os
import shlex
import shutil
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

import aiohttp

from harness.backends.base import Backend, ClusterSpec
from harness.systems.base import Option, System, SystemClient
from harness.systems.maelstrom.client import MaelstromClient
from harness.systems.maelstrom.network import MaelstromNetwork
from nemesis.capabilities import NetworkFaults, ProcessControl

if TYPE_CHECKING:
    from harness.config import RunConfig


class MaelstromSystem(System):
    name = "maelstrom"
    help = "any program speaking Maelstrom's lin-kv protocol on stdin/stdout"
    backends = ("local",)
    ops = frozenset({"read", "write", "cas"})
    options: ClassVar[Mapping[str, Option]] = {
        "bin": Option("the node program (a path or a command on PATH)"),
        "args": Option("its arguments, split as a shell would", default=""),
    }
    fault_capabilities = frozenset({ProcessControl, NetworkFaults})

    def __init__(self, options: Mapping[str, str] | None = None) -> None:
        super().__init__(options)
        program = self.opts["bin"]
        found = shutil.which(program) or (program if os.access(program, os.X_OK) else None)
        if found is None:
            raise ValueError(f"--system-opt bin={program}: no such executable program")
        try:
            self.command = [os.path.abspath(found), *shlex.split(self.opts["args"])]
        except ValueError as exc:
            raise ValueError(f"--system-opt args: {exc}") from None

    @classmethod
    def backend_type(cls, backend: str) -> type[Backend]:
        return MaelstromNetwork

    def create_backend(self, backend: str, spec: ClusterSpec) -> Backend:
        return MaelstromNetwork(spec, self.command)

    def client(self, backend: Backend, session: aiohttp.ClientSession,
               config: RunConfig) -> SystemClient:
        assert isinstance(backend, MaelstromNetwork)
        return MaelstromClient(backend, config.op_timeout)
