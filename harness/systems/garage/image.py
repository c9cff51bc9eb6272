"""The Garage image: Debian's ``libfaketime`` in the bootstrapped base, the
garage binary the host built with cargo (binary.py), and ``docker/garage/``
(the start script), built with no container registry."""

from __future__ import annotations

import docker

from harness.backends.docker.progress import Progress
from harness.backends.docker.system_image import ensure_system_image
from harness.systems.garage.binary import build_key, ensure_garage_binary

FAKETIME_PACKAGE = "libfaketime"


def ensure_garage_image(client: docker.DockerClient, progress: Progress | None = None) -> str:
    """Tag of an up-to-date Garage image, building the binary and image only if needed."""
    progress = progress or Progress()
    with progress:
        binary = ensure_garage_binary(progress)
        return ensure_system_image(client, progress, "garage", (FAKETIME_PACKAGE,),
                                   files={"garage": binary}, files_key=build_key())
