"""The ``garage`` system: Garage, a Dynamo-style S3 object store, one server per
container on the run's network, faulted by the docker backend's iptables and
NFQUEUE rules like any other node, and its wall clock moved by libfaketime.

``consistency`` picks Garage's quorums for ``replication`` copies (3: read 2
and write 2 when consistent, read 1 when degraded, read 1 and write 1 when
dangerous). Objects are last-write-wins by the coordinating node's clock,
which is why clock skew is a fault worth having here.
"""

from __future__ import annotations

import asyncio
import importlib.util
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar

import aiohttp

from checkers.read_after_write import NAME as READ_AFTER_WRITE
from harness.backends.base import Backend, ClusterSpec
from harness.backends.docker.backend import DockerBackend
from harness.backends.docker.faketime import faketime_offset
from harness.systems.base import Option, System, SystemClient
from harness.systems.garage.client import GarageClient
from harness.systems.garage.cluster import bootstrap, run_secrets
from harness.systems.garage.image import ensure_garage_image

if TYPE_CHECKING:
    from collections.abc import Mapping

    from harness.config import RunConfig

# docker/garage/quorumlab-garage writes garage.toml from these fields.
NODE_TEMPLATE = "quorumlab-garage {id} {peers} {data_dir} {secret} {consistency} {replication}"
CONSISTENCY_MODES = ("consistent", "degraded", "dangerous")
BOOTSTRAP_LIMIT_S = 90.0


class GarageBackend(DockerBackend):
    """The docker backend with the Garage image, joined into a cluster after start."""

    def __init__(self, spec: ClusterSpec, **kwargs: object) -> None:
        super().__init__(spec, **kwargs)  # type: ignore[arg-type]
        _, self.credentials = run_secrets(spec.run_id)
        self.garage_ids: dict[str, str] = {}

    async def setup(self) -> None:
        if self.image is None:
            self.image = await asyncio.to_thread(ensure_garage_image, self.client)
        await super().setup()
        nodes = list(self.spec.nodes)
        self.garage_ids = await bootstrap(
            nodes, {node: self.node_ip(node) for node in nodes}, self.credentials,
            lambda node, script: self._exec(self._node(node), script), BOOTSTRAP_LIMIT_S)

    def clock_offset_text(self, offset_s: float) -> str:
        return faketime_offset(offset_s)


class GarageSystem(System):
    name = "garage"
    help = "Garage (S3 object store, LWW by the coordinator's clock), one server per container"
    backends = ("docker",)
    # Garage's one guarantee (its docs; its own Jepsen suite expects the
    # linearizable-register test to fail). Degraded and dangerous give it up.
    claim_checker = READ_AFTER_WRITE
    options: ClassVar[Mapping[str, Option]] = {
        "consistency": Option("Garage's consistency_mode: consistent (read and write quorum "
                              "of a majority), degraded (read quorum 1), dangerous (read and "
                              "write quorum 1)", default="consistent",
                              choices=CONSISTENCY_MODES),
        "replication": Option("replication_factor: copies of each object (at most --nodes)",
                              default="3"),
    }

    @classmethod
    def backend_type(cls, backend: str) -> type[Backend]:
        return GarageBackend

    def validate(self, config: RunConfig) -> None:
        if importlib.util.find_spec("botocore") is None:
            raise ValueError("the garage system signs S3 requests with botocore, which is "
                             "not installed: pip install 'quorumlab[garage]'")
        raw = self.opts["replication"]
        if not raw.isdigit() or not 1 <= int(raw) <= config.nodes:
            raise ValueError(f"--system-opt replication={raw}: a whole number of copies "
                             f"from 1 to --nodes ({config.nodes})")

    def create_backend(self, backend: str, spec: ClusterSpec) -> Backend:
        secret, _ = run_secrets(spec.run_id)
        template = (NODE_TEMPLATE.replace("{secret}", secret)
                    .replace("{consistency}", self.opts["consistency"])
                    .replace("{replication}", self.opts["replication"]))
        return GarageBackend(replace(spec, replica_cmd=template))

    def client(self, backend: Backend, session: aiohttp.ClientSession,
               config: RunConfig) -> SystemClient:
        assert isinstance(backend, GarageBackend)
        return GarageClient(session, [(node, backend.public_url(node))
                                      for node in config.node_ids],
                            backend.credentials, config.op_timeout)
