"""Build the replica image without any container registry.

The image is `docker/Dockerfile` built FROM a base (python:3.11-slim when it is
present or pullable, else a base bootstrapped with debootstrap), with the
replica installed from wheels made on the host: the project's own wheel (only
the `replica` package goes in) plus aiohttp and its dependencies, downloaded by
the host's pip for the base's Python. The tag hashes all of that, so a second
build with unchanged inputs is a dictionary lookup.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

from harness.backends.docker.bootstrap import (
    GLIBC,
    PYTHON_TAG,
    ImageBuildError,
    bootstrap_base,
    bootstrap_tag,
    host_arch,
    present_image,
)
from harness.backends.docker.progress import Progress

DEFAULT_BASE = "python:3.11-slim"
IMAGE_REPO = "quorumlab-replica"
REPLICA_DEPS = ("aiohttp", "orjson")  # what the replica imports beyond the stdlib
# Project files that go into the image (and so into its tag's hash).
PROJECT_FILES = ("pyproject.toml",)
PROJECT_PACKAGES = ("replica",)
_WHEEL_ARCH = {"amd64": "x86_64", "arm64": "aarch64"}
# The oldest glibc a manylinux wheel can target per architecture, and the
# legacy names (PEP 513/571/599) that stand for some of those glibc versions.
_OLDEST_GLIBC_MINOR = {"x86_64": 5, "aarch64": 17}
_LEGACY_MANYLINUX = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}


def project_root() -> Path:
    """The source checkout this harness runs from (image builds need it)."""
    root = Path(__file__).resolve().parents[3]
    if not (root / "docker" / "Dockerfile").is_file():
        raise ImageBuildError(
            f"no docker/Dockerfile beside the harness ({root}): image builds need a source checkout"
        )
    return root


def _source_files(root: Path) -> list[Path]:
    """Every file of the project that ends up in the image, in a stable order."""
    files = [root / name for name in PROJECT_FILES]
    for package in PROJECT_PACKAGES:
        files += sorted(
            p for p in (root / package).rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
        )
    return [f for f in files if f.is_file()]


def _dep_pins() -> list[str]:
    """The replica's runtime dependencies pinned to the host's versions."""
    pins = []
    for name in REPLICA_DEPS:
        try:
            pins.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pins.append(name)
    return pins


def image_tag(base_id: str, root: Path) -> str:
    """`quorumlab-replica:<hash>` of the base image id, docker/, sources and pins."""
    digest = hashlib.sha256()
    digest.update(base_id.encode())
    for path in sorted((root / "docker").iterdir()):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for path in _source_files(root):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    digest.update("\n".join(_dep_pins()).encode())
    return f"{IMAGE_REPO}:{digest.hexdigest()[:16]}"


def _pull(client: docker.DockerClient, name: str, progress: Progress) -> bool:
    """Try to pull `name`; False (not an error) when no registry answers."""
    progress.step(f"pulling {name}")
    try:
        client.images.pull(name)
        return True
    except docker.errors.APIError as exc:
        progress.step(f"cannot pull {name}: {str(exc.explanation or exc).splitlines()[0]}")
        return False


def resolve_base(client: docker.DockerClient, base: str, progress: Progress) -> str:
    """The base image to build on: `auto` prefers python:3.11-slim, then bootstraps."""
    if base != "auto":
        if present_image(client, base) or _pull(client, base, progress):
            return base
        raise ImageBuildError(f"base image {base} is not present and cannot be pulled")
    if present_image(client, DEFAULT_BASE):
        return DEFAULT_BASE
    bootstrapped = bootstrap_tag()
    if present_image(client, bootstrapped):
        return bootstrapped
    if _pull(client, DEFAULT_BASE, progress):
        return DEFAULT_BASE
    return bootstrap_base(client, progress)


@dataclass(frozen=True)
class WheelTarget:
    """What a wheel must fit to run in the base: its Python and its C library."""

    python_tag: str  # "311"
    glibc: tuple[int, int]  # (2, 36)
    arch: str  # "x86_64"

    def platforms(self) -> list[str]:
        """Every manylinux platform tag this glibc runs, newest first.

        A registry tags a wheel with the oldest glibc it needs (orjson >= 3.9 only
        as manylinux_2_17 / manylinux2014, others as manylinux_2_28), and pip does
        not widen an explicit --platform, so a single tag silently loses packages.
        """
        major, newest = self.glibc
        oldest = _OLDEST_GLIBC_MINOR.get(self.arch, 17)
        tags = []
        for minor in range(newest, oldest - 1, -1):
            tags.append(f"manylinux_{major}_{minor}_{self.arch}")
            if minor in _LEGACY_MANYLINUX and major == 2:
                tags.append(f"{_LEGACY_MANYLINUX[minor]}_{self.arch}")
        return tags


def _wheel_target(client: docker.DockerClient, base: str) -> WheelTarget:
    """The base's python3 version and glibc (its wheels must match both)."""
    arch = _WHEEL_ARCH.get(host_arch())
    if arch is None:
        raise ImageBuildError(f"no wheel platform known for architecture {host_arch()}")
    if base.startswith("quorumlab-base:"):
        return WheelTarget(PYTHON_TAG, GLIBC, arch)
    probe = ("import platform, sys; "
             "print('%d%d' % sys.version_info[:2], platform.libc_ver()[1])")
    out = client.containers.run(base, ["python3", "-c", probe], remove=True,
                                network_disabled=True).decode().split()
    try:
        python_tag, libc = out[0], tuple(int(x) for x in out[1].split(".")[:2])
    except (IndexError, ValueError):
        raise ImageBuildError(f"base {base}: cannot tell its Python and glibc "
                              f"(python3 printed {' '.join(out)!r})") from None
    return WheelTarget(python_tag, (libc[0], libc[1]), arch)


def _pip(args: list[str]) -> str | None:
    """Run the host's pip; None on success, else its output (errors included)."""
    proc = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)
    return None if proc.returncode == 0 else proc.stderr + proc.stdout


def _last_error(output: str) -> str:
    """The line of pip's output that says what went wrong."""
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.lower().startswith("error")]
    return (errors or lines or ["?"])[-1]


def _download_wheels(pins: list[str], target: WheelTarget, wheels: Path,
                     progress: Progress) -> None:
    """pip download the pinned dependencies as wheels for `target`, or say which is missing."""
    platforms = target.platforms()
    args = ["download", "-q", "--only-binary=:all:", "--python-version", target.python_tag,
            "--implementation", "cp", "--abi", f"cp{target.python_tag}", "-d", str(wheels)]
    for platform_tag in platforms:
        args += ["--platform", platform_tag]
    progress.detail(f"pip download {' '.join(pins)}")
    output = _pip([*args, *pins])
    if output is None:
        return
    missing = re.search(r"No matching distribution found for (\S+)", output)
    if missing:
        raise ImageBuildError(
            f"no wheel of {missing.group(1)} on the package index for the image: tried "
            f"cp{target.python_tag} wheels for glibc {target.glibc[0]}.{target.glibc[1]} "
            f"{target.arch} ({platforms[-1]} to {platforms[0]}) and pure-Python ones")
    raise ImageBuildError(f"pip download {' '.join(pins)} failed: {_last_error(output)}")


def _make_wheels(root: Path, wheels: Path, target: WheelTarget, progress: Progress) -> None:
    """The replica's wheel and its dependencies' wheels for the base's Python."""
    progress.step("building the replica wheel and downloading its dependencies' wheels")
    with tempfile.TemporaryDirectory(prefix="quorumlab-src-") as tmp:
        src = Path(tmp)
        for path in _source_files(root):
            dest = src / path.relative_to(root)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
        # pyproject names README.md as the long description; the image needs none,
        # and leaving it out of the hash spares a rebuild per README edit.
        (src / "README.md").write_text("quorumlab replica\n")
        progress.detail("pip wheel (replica)")
        output = _pip(["wheel", "-q", "--no-deps", "-w", str(wheels), str(src)])
        if output is not None:
            raise ImageBuildError(f"pip wheel (replica) failed: {_last_error(output)}")
    _download_wheels(_dep_pins(), target, wheels, progress)


def build_context_image(client: docker.DockerClient, context: Path, base: str, tag: str,
                        progress: Progress, role: str = "replica") -> None:
    """docker build the Dockerfile in ``context`` FROM ``base`` as ``tag``; one-line errors."""
    progress.step(f"docker build {tag} FROM {base}")
    last: list[str] = []
    for chunk in client.api.build(
        path=str(context), tag=tag, buildargs={"BASE": base}, rm=True, forcerm=True,
        decode=True, labels={"quorumlab.image": role},
    ):
        if "error" in chunk:
            detail = " ".join(last[-3:])
            raise ImageBuildError(f"docker build failed: {chunk['error'].strip()} {detail}".strip())
        line = chunk.get("stream", "").strip()
        if line:
            last.append(line)
            if line.startswith("Step "):
                progress.step(" ".join(line.split())[:100])
            else:
                progress.detail(line)


def ensure_image(base: str = "auto", client: docker.DockerClient | None = None,
                 progress: Progress | None = None) -> str:
    """Tag of an up-to-date replica image, building (and bootstrapping) only if needed."""
    client = client or docker.from_env()
    progress = progress or Progress()
    root = project_root()
    with progress:
        base_ref = resolve_base(client, base, progress)
        base_image = present_image(client, base_ref)
        if base_image is None:
            raise ImageBuildError(f"base image {base_ref} vanished during the build")
        tag = image_tag(base_image.id, root)
        if present_image(client, tag):
            progress.step(f"{tag} is up to date")
            return tag
        with tempfile.TemporaryDirectory(prefix="quorumlab-image-") as tmp:
            context = Path(tmp) / "context"
            shutil.copytree(root / "docker", context,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            (context / "wheels").mkdir()
            _make_wheels(root, context / "wheels", _wheel_target(client, base_ref), progress)
            build_context_image(client, context, base_ref, tag, progress)
        progress.step(f"built {tag}")
        _remove_older(client, tag)
        return tag


def _remove_older(client: docker.DockerClient, keep: str) -> None:
    """Drop earlier replica images (each source change makes one); keep any in use."""
    for image in client.images.list(name=IMAGE_REPO):
        if keep in image.tags:
            continue
        for tag in image.tags:
            with contextlib.suppress(docker.errors.APIError):  # in use by a container
                client.images.remove(tag)


def remove_images(client: docker.DockerClient) -> list[str]:
    """Remove every image the harness builds, for any system, and every bootstrapped
    base: each tag named `quorumlab-*` (the next build starts from nothing)."""
    removed = []
    for image in client.images.list():
        for tag in image.tags:
            if tag.startswith("quorumlab-"):
                client.images.remove(tag, force=True)
                removed.append(tag)
    return removed
