"""The command lines of a cluster's processes, for every backend.

Backends differ in where a node listens and keeps its files, never in what it
is told, so they describe the place (:class:`NodePlace`) and this module writes
the command. A ``--replica-cmd`` template follows one quoting rule everywhere:
each field is shell-quoted into the template, the result is split into words
as a shell would split it, and the words are executed without a shell. A data
directory with spaces or quotes thus stays one argument on every backend; a
template that needs a shell asks for one (``sh -c '...'``).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from harness.backends.base import ClusterSpec

TEMPLATE_FIELDS = ("id", "listen", "peers", "data_dir", "n", "r", "w")


@dataclass(frozen=True)
class NodePlace:
    """Where one node runs, as its backend sees it."""

    node: str
    listen: str  # host:port the node serves on
    peers: str  # id=host:port,... as the node must reach them (proxies, container IPs)
    data_dir: str
    clock_file: str  # the reference replica's clock-offset file


def _fields(spec: ClusterSpec, place: NodePlace) -> dict[str, object]:
    """What a node is told, by template field name."""
    return {"id": place.node, "listen": place.listen, "peers": place.peers,
            "data_dir": place.data_dir, "n": spec.n, "r": spec.r, "w": spec.w}


def node_command(spec: ClusterSpec, python: str, place: NodePlace) -> list[str]:
    """The node's command: the reference replica, or the spec's --replica-cmd filled in."""
    if spec.replica_cmd is not None:
        return fill_template(spec.replica_cmd, **_fields(spec, place))
    return [python, "-m", "replica", "--id", place.node, *_quorum_flags(spec, place.listen,
                                                                        place.peers),
            "--data-dir", place.data_dir, "--clock-offset-file", place.clock_file,
            "--anti-entropy-interval", str(spec.anti_entropy_interval)]


def node_environment(spec: ClusterSpec, place: NodePlace) -> dict[str, str]:
    """The same as environment variables (QUORUMLAB_ID, QUORUMLAB_LISTEN, ...,
    QUORUMLAB_CLOCK_OFFSET_FILE), for a replica image started by its own
    entrypoint, which has no template to be filled into."""
    fields = {**_fields(spec, place), "clock_offset_file": place.clock_file}
    return {f"QUORUMLAB_{name.upper()}": str(value) for name, value in fields.items()}


def agent_command(spec: ClusterSpec, python: str, listen: str, peers: str) -> list[str]:
    """The reference fan-out agent at a node's position (also in front of a
    --replica-cmd cluster: it only speaks the internal API). It runs the
    protocol, so it gets the bug switches."""
    return [python, "-m", "replica.agent", *_quorum_flags(spec, listen, peers)]


def fill_template(template: str, **fields: object) -> list[str]:
    """Fill a ``--replica-cmd`` template into words; ValueError (one line) if malformed."""
    try:
        return shlex.split(template.format(**{name: shlex.quote(str(value))
                                              for name, value in fields.items()}))
    except KeyError as exc:
        raise ValueError(
            f"--replica-cmd: unknown placeholder {{{exc.args[0]}}}; "
            f"use {', '.join('{' + f + '}' for f in TEMPLATE_FIELDS)}"
        ) from None
    except (ValueError, IndexError) as exc:
        raise ValueError(f"--replica-cmd: {exc}") from None


def _quorum_flags(spec: ClusterSpec, listen: str, peers: str) -> list[str]:
    """Flags the replica and the agent share: addresses, quorums, bug switches."""
    flags = ["--listen", listen, "--peers", peers, "--n", str(spec.n), "--r", str(spec.r),
             "--w", str(spec.w), "--request-timeout", str(spec.request_timeout)]
    flags += [arg for bug in spec.bugs for arg in ("--bug", bug)]
    if spec.allow_weak_quorum:
        flags.append("--allow-weak-quorum")
    return flags
