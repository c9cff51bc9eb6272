"""The image of a system under test that is not the replica, built with no registry.

Such a system's Debian packages (etcd-server, libfaketime) go into the
debootstrap of a base of their own tag; its folder ``docker/<system>/`` (a
Dockerfile and a start script) and the delay daemon go into the build
context, with any file the host made for it (Garage's binary). The tag hashes
the base, that folder, the daemon and a key naming the host-made files, so a
second build with nothing changed is a lookup.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import docker
import docker.errors

from harness.backends.docker.bootstrap import bootstrap_base, present_image
from harness.backends.docker.image import build_context_image, project_root
from harness.backends.docker.progress import Progress


def system_image_tag(system: str, base_id: str, root: Path, extra_key: str = "") -> str:
    digest = hashlib.sha256(base_id.encode() + b"\0" + extra_key.encode())
    for path in sorted((root / "docker" / system).iterdir()):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update((root / "docker" / "qdelay.py").read_bytes())
    return f"quorumlab-{system}:{digest.hexdigest()[:16]}"


def ensure_system_image(client: docker.DockerClient, progress: Progress, system: str,
                        packages: tuple[str, ...], files: Mapping[str, Path] | None = None,
                        files_key: str = "") -> str:
    """Tag of an up-to-date ``quorumlab-<system>`` image, built only if needed.

    ``files`` (name in the context -> host path) are copied in; ``files_key``
    must change whenever they do (hashing a large binary at every run would cost
    more than the lookup it saves)."""
    root = project_root()
    base = bootstrap_base(client, progress, extra_packages=packages)
    tag = system_image_tag(system, client.images.get(base).id, root, files_key)
    if present_image(client, tag):
        progress.step(f"{tag} is up to date")
        return tag
    with tempfile.TemporaryDirectory(prefix=f"quorumlab-{system}-image-") as tmp:
        context = Path(tmp) / "context"
        shutil.copytree(root / "docker" / system, context)
        shutil.copy2(root / "docker" / "qdelay.py", context / "qdelay.py")
        for name, path in (files or {}).items():
            shutil.copy2(path, context / name)
        build_context_image(client, context, base, tag, progress, role=system)
    progress.step(f"built {tag}")
    return tag
