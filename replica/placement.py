"""Which nodes replicate a key: rendezvous (highest-random-weight) hashing.

Every node and client computes the same preference list from the key and the
node ids alone, with no coordination; when n equals the cluster size every node
replicates every key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def _weight(node: str, key: str) -> bytes:
    return hashlib.blake2b(f"{node}\x00{key}".encode(), digest_size=8).digest()


def preference_list(key: str, nodes: Sequence[str], n: int) -> list[str]:
    """The n nodes that hold `key`, highest weight first."""
    if n >= len(nodes):
        return sorted(nodes)
    return sorted(nodes, key=lambda node: _weight(node, key), reverse=True)[:n]
