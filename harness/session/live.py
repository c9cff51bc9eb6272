"""A started cluster that stays up until stopped: its backend and its system's client.

The same objects `quorumlab run` uses (harness.runner.cluster_spec, the
system's backend and client), held open across commands or tests instead of
for one run. Whoever creates it owns the resources (ClusterSpec.owner is the
current process): the supervisor of a `cluster up`, the pytest process for the
plugin's fixture, so the leak sweepers judge by that process's life.
"""

from __future__ import annotations

from pathlib import Path

import aiohttp

from harness.backends.base import Backend
from harness.config import RunConfig
from harness.run_folder import RunFolder
from harness.runner import HEALTH_TIMEOUT, cluster_spec
from harness.systems import SystemClient
from replica.delivery import new_session


class LiveCluster:
    """The nodes of one cluster, their backend and a client to them."""

    def __init__(self, config: RunConfig, backend_name: str, folder: RunFolder,
                 run_id: str) -> None:
        self.config = config
        self.backend_name = backend_name
        self.folder = folder
        self.run_id = run_id
        self.system = config.make_system()
        self.backend: Backend = self.system.create_backend(
            backend_name, cluster_spec(config, folder, run_id, backend_name))
        self._http: aiohttp.ClientSession | None = None
        self._client: SystemClient | None = None

    @property
    def client(self) -> SystemClient:
        if self._client is None:
            raise RuntimeError("the cluster is not started")
        return self._client

    @property
    def http(self) -> aiohttp.ClientSession:
        if self._http is None:
            raise RuntimeError("the cluster is not started")
        return self._http

    @property
    def nodes(self) -> tuple[str, ...]:
        return self.config.node_ids

    @property
    def run_dir(self) -> Path:
        return self.folder.path

    async def start(self) -> None:
        """Start every node and wait until they serve; on failure nothing is left."""
        try:
            await self.backend.setup()
            self._http = new_session()
            self._client = self.system.client(self.backend, self._http, self.config)
            await self._client.ready(HEALTH_TIMEOUT)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Remove everything the cluster started (node logs are kept). Safe twice."""
        try:
            await self.backend.teardown()
        finally:
            if self._http is not None:
                await self._http.close()
            self._http = self._client = None

    def addresses(self) -> dict[str, str]:
        """Each node's public API, as a person would reach it."""
        return {node: self.backend.public_url(node) for node in self.nodes}

    def home(self, node: str) -> str:
        """Where the client sends an op issued "at" ``node``."""
        homes = dict(self.client.homes())
        if node not in homes:
            raise ValueError(f"unknown node {node!r}; the cluster has {', '.join(homes)}")
        return homes[node]
