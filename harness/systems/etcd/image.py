"""The etcd image: Debian's ``etcd-server`` in the bootstrapped base, plus
``docker/etcd/`` (the start script), built with no container registry."""

from __future__ import annotations

import docker

from harness.backends.docker.progress import Progress
from harness.backends.docker.system_image import ensure_system_image

ETCD_PACKAGE = "etcd-server"  # bookworm: 3.4


def ensure_etcd_image(client: docker.DockerClient, progress: Progress | None = None) -> str:
    """Tag of an up-to-date etcd image, bootstrapping and building only if needed."""
    progress = progress or Progress()
    with progress:
        return ensure_system_image(client, progress, "etcd", (ETCD_PACKAGE,))
