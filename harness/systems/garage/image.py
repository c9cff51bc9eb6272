"""The Garage image, built with no container registry, like etcd's.

Debian's ``libfaketime`` goes into the debootstrap of a base of its own tag;
``docker/garage/`` adds the start script, and the garage binary comes from the
host's cargo build (binary.py). The tag hashes the base, that folder, the delay
daemon and the binary's build key, so a second build with nothing changed is a
lookup.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path

import docker
import docker.errors

from harness.backends.docker.bootstrap import bootstrap_base
from harness.backends.docker.image import build_context_image, project_root
from harness.backends.docker.progress import Progress
from harness.systems.garage.binary import build_key, ensure_garage_binary

FAKETIME_PACKAGE = "libfaketime"
IMAGE_REPO = "quorumlab-garage"


def garage_image_tag(base_id: str, root: Path) -> str:
    digest = hashlib.sha256(base_id.encode() + b"\0" + build_key().encode())
    for path in sorted((root / "docker" / "garage").iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update((root / "docker" / "qdelay.py").read_bytes())
    return f"{IMAGE_REPO}:{digest.hexdigest()[:16]}"


def ensure_garage_image(client: docker.DockerClient, progress: Progress | None = None) -> str:
    """Tag of an up-to-date Garage image, building the binary and image only if needed."""
    progress = progress or Progress()
    root = project_root()
    with progress:
        binary = ensure_garage_binary(progress)
        base = bootstrap_base(client, progress, extra_packages=(FAKETIME_PACKAGE,))
        tag = garage_image_tag(client.images.get(base).id, root)
        try:
            client.images.get(tag)
            progress.step(f"{tag} is up to date")
            return tag
        except docker.errors.ImageNotFound:
            pass
        with tempfile.TemporaryDirectory(prefix="quorumlab-garage-image-") as tmp:
            context = Path(tmp) / "context"
            shutil.copytree(root / "docker" / "garage", context)
            shutil.copy2(root / "docker" / "qdelay.py", context / "qdelay.py")
            shutil.copy2(binary, context / "garage")
            build_context_image(client, context, base, tag, progress, role="garage")
        progress.step(f"built {tag}")
        return tag
