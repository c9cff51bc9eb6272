"""Cluster backends: one interface (base.Backend), several mechanisms."""

from __future__ import annotations

from harness.backends.base import Backend, ClusterSpec


def docker_available() -> bool:
    """True when a Docker daemon answers (the default backend then is docker)."""
    try:
        import docker
    except ImportError:
        return False
    try:
        client = docker.from_env(timeout=3)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except Exception:  # any failure means "not reachable"
        return False


def create_backend(name: str, spec: ClusterSpec) -> Backend:
    """Instantiate the backend called `name` (local or docker)."""
    if name == "local":
        from harness.backends.local import LocalBackend

        return LocalBackend(spec)
    if name == "docker":
        from harness.backends.docker import DockerBackend

        return DockerBackend(spec)
    raise ValueError(f"unknown backend {name!r}")
