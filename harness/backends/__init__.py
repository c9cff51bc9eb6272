"""Cluster backends: one interface (base.Backend), one package per mechanism, each
offering the capabilities it has (nemesis.capabilities)."""

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


def backend_class(name: str) -> type[Backend]:
    """The backend called `name` (local or docker), imported only when asked for."""
    if name == "local":
        from harness.backends.local import LocalBackend

        return LocalBackend
    if name == "docker":
        from harness.backends.docker import DockerBackend

        return DockerBackend
    raise ValueError(f"unknown backend {name!r}")


def create_backend(name: str, spec: ClusterSpec) -> Backend:
    """Instantiate the backend called `name` for `spec`."""
    return backend_class(name)(spec)
