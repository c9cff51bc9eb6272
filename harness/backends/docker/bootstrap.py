"""Bootstrap a Debian base image with no container registry: debootstrap + import.

When `python:3.11-slim` can be neither found nor pulled, the harness builds its
own base: a minbase Debian bookworm root filesystem made by debootstrap from the
host's own Debian mirror (read from its apt configuration), imported into Docker
as an image. The tag hashes every input, so the (slow) bootstrap runs once.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

from harness.backends.docker.progress import Progress

SUITE = "bookworm"
PACKAGES = ("python3", "python3-venv", "iptables", "iproute2", "procps")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
BASE_REPO = "quorumlab-base"
RECIPE_VERSION = "1"  # bump when the recipe below changes in a way the hash misses
PYTHON_TAG = "311"  # bookworm's python3 is 3.11
GLIBC = (2, 36)  # bookworm's C library: the newest manylinux wheels it runs


class ImageBuildError(RuntimeError):
    """An image could not be built; the message is one line for the user."""


@dataclass(frozen=True)
class AptSource:
    """One `deb` entry of the host's apt configuration."""

    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]


def present_image(client: docker.DockerClient, name: str) -> docker.models.images.Image | None:
    """The image named ``name`` if this daemon has it, else None."""
    try:
        return client.images.get(name)
    except docker.errors.ImageNotFound:
        return None

def _parse_one_line(text: str) -> list[AptSource]:
    """The classic `deb [options] URI suite components...` format."""
    out = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line.startswith("deb "):
            continue
        words = line.split()[1:]
        if words and words[0].startswith("["):
            while words and not words[0].endswith("]"):
                words.pop(0)
            words = words[1:]
        if len(words) >= 2:
            out.append(AptSource(words[0], (words[1],), tuple(words[2:])))
    return out


def _parse_deb822(text: str) -> list[AptSource]:
    """The deb822 `.sources` format: blank-line separated stanzas of fields."""
    out = []
    for stanza in text.split("\n\n"):
        fields: dict[str, str] = {}
        last = None
        for raw in stanza.splitlines():
            if raw.startswith("#") or not raw.strip():
                continue
            if raw[0].isspace() and last:  # continuation line
                fields[last] += " " + raw.strip()
                continue
            name, _, value = raw.partition(":")
            last = name.strip().lower()
            fields[last] = value.strip()
        if "deb" not in fields.get("types", "").split():
            continue
        if fields.get("enabled", "yes").lower() == "no":
            continue
        suites = tuple(fields.get("suites", "").split())
        components = tuple(fields.get("components", "").split())
        out.extend(AptSource(uri, suites, components) for uri in fields.get("uris", "").split())
    return out


def apt_sources(etc_apt: Path = Path("/etc/apt")) -> list[AptSource]:
    """Every `deb` source of the host, in apt's reading order."""
    sources: list[AptSource] = []
    main_list = etc_apt / "sources.list"
    if main_list.is_file():
        sources += _parse_one_line(main_list.read_text(errors="replace"))
    parts = etc_apt / "sources.list.d"
    if parts.is_dir():
        for path in sorted(parts.iterdir()):
            if path.suffix == ".list":
                sources += _parse_one_line(path.read_text(errors="replace"))
            elif path.suffix == ".sources":
                sources += _parse_deb822(path.read_text(errors="replace"))
    return sources


def debian_mirror(sources: list[AptSource], suite: str = SUITE) -> str:
    """The host's mirror carrying `suite`'s main component; Debian's CDN otherwise."""
    for src in sources:
        if suite in src.suites and "main" in src.components:
            return src.uri.rstrip("/")
    return DEFAULT_MIRROR


def base_tag(mirror: str, arch: str, packages: tuple[str, ...] = PACKAGES) -> str:
    """`quorumlab-base:bookworm-<hash>`: the hash covers everything that shapes it."""
    recipe = "\n".join([RECIPE_VERSION, SUITE, "minbase", *packages, mirror, arch])
    digest = hashlib.sha256(recipe.encode()).hexdigest()[:12]
    return f"{BASE_REPO}:{SUITE}-{digest}"


def host_arch() -> str:
    """Debian's name for this machine's architecture."""
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)


def bootstrap_tag() -> str:
    """The tag the bootstrapped base has (or would have) on this host."""
    return base_tag(debian_mirror(apt_sources()), host_arch())


def _ensure_debootstrap(progress: Progress) -> str:
    """Path of debootstrap, installing it with apt-get when we are root on Debian."""
    search = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    found = shutil.which("debootstrap", path=search)
    if found:
        return found
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        raise ImageBuildError(
            "debootstrap is missing: install it (apt-get install debootstrap) "
            "or pass --base NAME with an image you have"
        )
    progress.step("debootstrap is missing: installing it with apt-get (needs Debian's mirror)")
    for cmd in ([apt, "update"], [apt, "install", "-y", "--no-install-recommends", "debootstrap"]):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["?"]
            raise ImageBuildError(f"installing debootstrap failed ({' '.join(cmd)}): {tail[0]}")
    found = shutil.which("debootstrap", path=search)
    if found is None:
        raise ImageBuildError("apt-get installed debootstrap but it is not on PATH")
    return found


def _run_streaming(cmd: list[str], progress: Progress, log: Path) -> None:
    """Run `cmd`, show each output line as progress, keep them all in `log`."""
    with log.open("w") as sink, subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            sink.write(line)
            progress.detail(line)
        code = proc.wait()
    if code != 0:
        lines = log.read_text(errors="replace").strip().splitlines()
        raise ImageBuildError(
            f"{Path(cmd[0]).name} failed (exit {code}): {lines[-1] if lines else '?'} "
            f"(full log: {log})"
        )


def bootstrap_base(client: docker.DockerClient, progress: Progress,
                   extra_packages: tuple[str, ...] = ()) -> str:
    """Return the bootstrapped base image's tag, building it if absent.

    ``extra_packages`` (Debian package names) go into the same debootstrap, for
    a system under test that Debian packages (etcd-server): no registry either."""
    mirror = debian_mirror(apt_sources())
    packages = PACKAGES + tuple(extra_packages)
    tag = base_tag(mirror, host_arch(), packages)
    if present_image(client, tag):
        progress.step(f"base image {tag} (cached)")
        return tag
    debootstrap = _ensure_debootstrap(progress)
    progress.step(f"bootstrapping Debian {SUITE} (minbase + {', '.join(packages)}) from {mirror}")
    with tempfile.TemporaryDirectory(prefix="quorumlab-rootfs-", dir="/var/tmp") as tmp:
        rootfs = Path(tmp) / "rootfs"
        log = Path(tempfile.gettempdir()) / "quorumlab-debootstrap.log"
        _run_streaming(
            [debootstrap, "--variant=minbase", f"--include={','.join(packages)}",
             f"--arch={host_arch()}", SUITE, str(rootfs), mirror],
            progress, log,
        )
        # Package caches and lists only make the image bigger.
        for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for entry in (rootfs / junk).glob("*"):
                if entry.is_file() and entry.name != "lock":
                    entry.unlink()
        progress.step(f"importing the root filesystem as {tag}")
        repo, _, version = tag.partition(":")
        with subprocess.Popen(
            ["tar", "--numeric-owner", "-C", str(rootfs), "-cf", "-", "."],
            stdout=subprocess.PIPE,
        ) as tar:
            assert tar.stdout is not None
            client.api.import_image_from_stream(
                tar.stdout, repository=repo, tag=version,
                changes=['CMD ["/bin/bash"]', "LABEL quorumlab.image=base"],
            )
        if tar.returncode != 0:
            raise ImageBuildError(f"tar of the root filesystem failed (exit {tar.returncode})")
    if not present_image(client, tag):
        raise ImageBuildError(f"docker import did not produce {tag}")
    return tag
