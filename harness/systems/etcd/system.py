"""The ``etcd`` system: Debian's etcd-server (3.4) as a cluster of containers
on the run's network, faulted by the docker backend's iptables and NFQUEUE
rules like any other node. ``reads=serializable`` serves reads from the asked
member's own state, which a partition leaves stale: the harness must see it."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

import aiohttp

from harness.backends.base import Backend, ClusterSpec
from harness.backends.docker.backend import DockerBackend
from harness.systems.base import Option, System, SystemClient
from harness.systems.etcd.client import EtcdClient
from harness.systems.etcd.image import ensure_etcd_image

if TYPE_CHECKING:
    from collections.abc import Mapping

    from harness.config import RunConfig

# docker/etcd/quorumlab-etcd turns the node's fields into etcd's flags.
NODE_TEMPLATE = "quorumlab-etcd {id} {peers} {data_dir} {token}"
MEMBER_COUNTS = (1, 3, 5, 7)


class EtcdBackend(DockerBackend):
    """The docker backend with the etcd image and etcd's start script as node command."""

    async def setup(self) -> None:
        if self.image is None:
            self.image = await asyncio.to_thread(ensure_etcd_image, self.client)
        await super().setup()


class EtcdSystem(System):
    name = "etcd"
    help = "Debian's etcd-server 3.4, one member per container, via its v3 JSON gateway"
    backends = ("docker",)
    ops = frozenset({"read", "write", "cas"})
    options: ClassVar[Mapping[str, Option]] = {
        "reads": Option("linearizable: through the leader's quorum; serializable: the "
                        "member's own state", default="linearizable",
                        choices=("linearizable", "serializable")),
    }
    clock_unreachable = ("etcd is a Go program, which reads the clock without libc, "
                         "so libfaketime cannot move it")

    @classmethod
    def backend_type(cls, backend: str) -> type[Backend]:
        return EtcdBackend

    def validate(self, config: RunConfig) -> None:
        if config.nodes not in MEMBER_COUNTS:
            raise ValueError(f"--nodes {config.nodes}: an etcd cluster here has "
                             f"{', '.join(map(str, MEMBER_COUNTS))} members")

    def create_backend(self, backend: str, spec: ClusterSpec) -> Backend:
        template = NODE_TEMPLATE.replace("{token}", spec.run_id)
        return EtcdBackend(replace(spec, replica_cmd=template))

    def client(self, backend: Backend, session: aiohttp.ClientSession,
               config: RunConfig) -> SystemClient:
        return EtcdClient(backend, session, config.node_ids, config.op_timeout,
                          serializable=self.opts["reads"] == "serializable")
