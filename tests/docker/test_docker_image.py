"""The replica image builds with no registry and holds what the backend needs."""

from __future__ import annotations

import time

import docker
import pytest

from harness.backends.docker.image import ensure_image
from harness.backends.docker.progress import Progress

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def test_image_has_the_replica_and_the_fault_tools(docker_client: docker.DockerClient,
                                                   replica_image: str) -> None:
    script = ("python -c 'import replica.__main__, replica.agent, aiohttp, orjson'"
              " && iptables -V && ip -V && ps --version"
              " && test -f /usr/local/lib/quorumlab/qdelay.py && echo fine")
    out = docker_client.containers.run(replica_image, ["sh", "-c", script], remove=True,
                                       network_disabled=True)
    assert out.decode().strip().endswith("fine")


def test_second_build_is_instant_and_same_tag(docker_client: docker.DockerClient,
                                              replica_image: str) -> None:
    start = time.monotonic()
    tag = ensure_image(client=docker_client, progress=Progress(quiet=True))
    assert tag == replica_image
    assert time.monotonic() - start < 5.0
