"""Fixtures for the Docker tests: a daemon (or a clear skip), the image, clusters."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import docker
import docker.errors
import pytest

from harness.backends.base import ClusterSpec
from harness.backends.docker import DockerBackend
from harness.backends.docker.image import ensure_image, remove_images
from harness.backends.docker.progress import Progress
from harness.backends.docker.resources import remove_labelled
from harness.owner import Owner

# Stand-in node for lifecycle tests: `python3 -m http.server` serving its data
# directory, with a listen backlog big enough for back-to-back connect probes
# (the default of 5 drops SYNs, which would read as a 1 s network delay).
STANDIN = (
    "python3 -c \"import functools, http.server as h; "
    "h.ThreadingHTTPServer.request_queue_size = 128; "
    "h.ThreadingHTTPServer(('', 8000), functools.partial("
    "h.SimpleHTTPRequestHandler, directory='{data_dir}')).serve_forever()\""
)


@pytest.fixture(scope="session")
def docker_client() -> docker.DockerClient:
    """A client of a daemon that answers, or skip every Docker test with the reason."""
    try:
        client = docker.from_env(timeout=120)
        client.ping()
    except docker.errors.DockerException as exc:
        pytest.skip(f"no Docker daemon answers ({str(exc).splitlines()[0]}): docker tests skipped")
    return client


@pytest.fixture(scope="session")
def replica_image(docker_client: docker.DockerClient) -> str:
    """The replica image, built (from nothing if need be) once per session.

    QUORUMLAB_COLD_IMAGE=1 removes the cached images first, to time a cold build.
    """
    if os.environ.get("QUORUMLAB_COLD_IMAGE") == "1":
        remove_images(docker_client)
    return ensure_image(client=docker_client, progress=Progress())


MakeCluster = Callable[..., Awaitable[DockerBackend]]


@pytest.fixture
async def make_cluster(docker_client: docker.DockerClient, replica_image: str,
                       tmp_path: Path) -> AsyncIterator[MakeCluster]:
    """Factory of started clusters; every one is torn down (and checked) afterwards."""
    made: list[DockerBackend] = []

    async def make(size: int = 3, replica_cmd: str | None = STANDIN, mode: str = "coordinator",
                   quorum: int | None = None, bugs: tuple[str, ...] = (),
                   owner: Owner | None = None) -> DockerBackend:
        q = quorum or size // 2 + 1
        spec = ClusterSpec(
            run_id=f"test-{uuid.uuid4().hex[:10]}", run_dir=tmp_path / f"run{len(made)}",
            nodes=tuple(f"n{i + 1}" for i in range(size)), n=size, r=q, w=q,
            replica_cmd=replica_cmd, mode=mode, bugs=bugs, owner=owner or Owner.current())
        backend = DockerBackend(spec, image=replica_image, client=docker_client)
        made.append(backend)
        await backend.setup()
        return backend

    try:
        yield make
    finally:
        for backend in made:
            try:
                await backend.teardown()
            finally:
                remove_labelled(docker_client, backend.spec.run_id)
