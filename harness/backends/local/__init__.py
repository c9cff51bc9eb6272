"""The local backend: nodes as processes on 127.0.0.1, links through harness-owned proxies."""

from harness.backends.local.backend import LocalBackend

__all__ = ["LocalBackend"]
