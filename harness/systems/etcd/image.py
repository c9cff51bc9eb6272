"""The etcd image, built with no container registry, like the replica's.

Debian's ``etcd-server`` goes into the same debootstrap as the base's own
packages (a base of its own tag), and ``docker/etcd/`` adds the delay daemon
and the start script. The tag hashes the base and that folder, so a second
build with nothing changed is a lookup.
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

ETCD_PACKAGE = "etcd-server"  # bookworm: 3.4
IMAGE_REPO = "quorumlab-etcd"


def etcd_image_tag(base_id: str, root: Path) -> str:
    digest = hashlib.sha256(base_id.encode())
    for path in sorted((root / "docker" / "etcd").iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update((root / "docker" / "qdelay.py").read_bytes())
    return f"{IMAGE_REPO}:{digest.hexdigest()[:16]}"


def ensure_etcd_image(client: docker.DockerClient, progress: Progress | None = None) -> str:
    """Tag of an up-to-date etcd image, bootstrapping and building only if needed."""
    progress = progress or Progress()
    root = project_root()
    with progress:
        base = bootstrap_base(client, progress, extra_packages=(ETCD_PACKAGE,))
        tag = etcd_image_tag(client.images.get(base).id, root)
        try:
            client.images.get(tag)
            return tag
        except docker.errors.ImageNotFound:
            pass
        with tempfile.TemporaryDirectory(prefix="quorumlab-etcd-image-") as tmp:
            context = Path(tmp) / "context"
            shutil.copytree(root / "docker" / "etcd", context)
            shutil.copy2(root / "docker" / "qdelay.py", context / "qdelay.py")
            build_context_image(client, context, base, tag, progress, role="etcd")
        progress.step(f"built {tag}")
        return tag
