"""The garage binary, built on this host by ``cargo install`` from crates.io.

Garage ships no Debian package and no registry image can be pulled here, but
crates.io is reachable, so the project builds the server itself: one pinned
version with one set of features (sqlite metadata, K2V, bundled C libraries so
the binary needs only glibc, which the bookworm base shares with the host).
A build takes 7 to 15 minutes on a 2-core machine, so the binary is kept under
the user's cache, in a folder named after the version and the flags: while
neither changes it is reused, and a new pin builds beside the old one
(cargo's shared target folder keeps the unchanged dependencies compiled).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from harness.backends.docker.bootstrap import ImageBuildError
from harness.backends.docker.progress import Progress

GARAGE_VERSION = "2.5.0"
CARGO_FLAGS = ("--locked", "--no-default-features", "--features", "sqlite,k2v,bundled-libs")


def cache_root() -> Path:
    """Where builds are kept: $QUORUMLAB_CACHE, else $XDG_CACHE_HOME/quorumlab."""
    explicit = os.environ.get("QUORUMLAB_CACHE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "quorumlab"


def build_key(version: str = GARAGE_VERSION, flags: tuple[str, ...] = CARGO_FLAGS) -> str:
    """The folder name of one build: the version and a hash of the cargo flags."""
    digest = hashlib.sha256("\0".join(flags).encode()).hexdigest()[:12]
    return f"{version}-{digest}"


def binary_path(version: str = GARAGE_VERSION, flags: tuple[str, ...] = CARGO_FLAGS) -> Path:
    return cache_root() / "garage" / build_key(version, flags) / "bin" / "garage"


def built_binary() -> Path | None:
    """The pinned build when it exists (tests skip without it; nothing is built)."""
    path = binary_path()
    return path if path.is_file() and os.access(path, os.X_OK) else None


def find_cargo() -> str | None:
    """cargo on PATH, or in ~/.cargo/bin where rustup puts it."""
    found = shutil.which("cargo")
    if found:
        return found
    rustup = Path.home() / ".cargo" / "bin" / "cargo"
    return str(rustup) if rustup.is_file() else None


def cargo_install_command(cargo: str, root: Path) -> list[str]:
    return [cargo, "install", "garage", "--version", GARAGE_VERSION, *CARGO_FLAGS,
            "--root", str(root)]


def ensure_garage_binary(progress: Progress) -> Path:
    """The pinned garage binary, built with cargo when it is not there yet.

    ImageBuildError (one line) when cargo is missing or the build fails; the
    full build log stays in the cache folder."""
    existing = built_binary()
    if existing is not None:
        progress.step(f"garage {GARAGE_VERSION} binary {existing} (cached)")
        return existing
    cargo = find_cargo()
    if cargo is None:
        raise ImageBuildError(
            "cargo is not installed: the garage system needs a Rust toolchain to build "
            f"garage {GARAGE_VERSION} from crates.io (install Debian's cargo or rustup)")
    target = binary_path()
    root = target.parent.parent
    log = root.parent / f"{root.name}.log"  # beside the build, named after it
    log.parent.mkdir(parents=True, exist_ok=True)
    progress.step(f"cargo install garage {GARAGE_VERSION} ({' '.join(CARGO_FLAGS)}); "
                  f"7 to 15 minutes on 2 cores, log in {log}")
    # One target folder for every pin: a new version recompiles only what changed.
    env = {**os.environ, "CARGO_TARGET_DIR": str(cache_root() / "garage" / "target")}
    with log.open("wb") as out:
        proc = subprocess.Popen(cargo_install_command(cargo, root), stdout=out,
                                stderr=subprocess.STDOUT, env=env)
        code = proc.wait()
    if code != 0 or not target.is_file():
        raise ImageBuildError(f"cargo install garage {GARAGE_VERSION} failed (exit {code}): "
                              f"{_last_line(log)} (full log: {log})")
    progress.step(f"built {target}")
    return target


def _last_line(log: Path) -> str:
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    errors = [line for line in lines if line.lstrip().startswith("error")]
    return (errors or lines or ["no output"])[-1].strip()
