"""The Docker backend: containers on a private bridge network, faults in their namespaces."""

from harness.backends.docker.backend import DockerBackend

__all__ = ["DockerBackend"]
