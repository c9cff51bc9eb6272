"""Labels, names and addresses of a run's Docker resources, and their removal.

Every container, network and volume a run creates carries the label
`quorumlab.run=<run id>` and `quorumlab.owner=<host:pid:start>` (harness.owner),
so a crashed run can always be found by label alone, whatever state the harness
died in, and removed once its owner is provably gone (the reaper,
`quorumlab cleanup`) without touching a live run.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import struct
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path

import docker
import docker.errors

from harness.owner import Owner

RUN_LABEL = "quorumlab.run"
OWNER_LABEL = "quorumlab.owner"
NODE_LABEL = "quorumlab.node"
ROLE_LABEL = "quorumlab.role"
# Where run subnets are carved from: a /16 private range rarely used by hosts.
SUBNET_POOL = ipaddress.ip_network("10.213.0.0/16")


def resource_name(run_id: str, *parts: str) -> str:
    """`quorumlab-<run>-<parts>` restricted to the characters Docker accepts."""
    raw = "-".join(("quorumlab", run_id, *parts))
    return re.sub(r"[^a-zA-Z0-9_.-]", "_", raw)


def labels(run_id: str, owner: Owner, **extra: str) -> dict[str, str]:
    return {RUN_LABEL: run_id, OWNER_LABEL: owner.to_label(),
            **{f"quorumlab.{k}": v for k, v in extra.items()}}


def _host_routes(proc_route: Path = Path("/proc/net/route")) -> list[ipaddress.IPv4Network]:
    """The host's IPv4 routes (every network it can already reach directly)."""
    nets = []
    try:
        lines = proc_route.read_text().splitlines()[1:]
    except OSError:
        return nets
    for line in lines:
        fields = line.split()
        if len(fields) < 8:
            continue
        dest = socket.inet_ntoa(struct.pack("<I", int(fields[1], 16)))
        mask = socket.inet_ntoa(struct.pack("<I", int(fields[7], 16)))
        net = ipaddress.ip_network(f"{dest}/{mask}", strict=False)
        if net.prefixlen > 0:  # the default route overlaps everything by design
            nets.append(net)
    return nets


def used_networks(client: docker.DockerClient) -> list[ipaddress.IPv4Network]:
    """Subnets of every Docker network plus the host's routes."""
    nets = _host_routes()
    for net in client.api.networks():
        for cfg in (net.get("IPAM") or {}).get("Config") or []:
            subnet = cfg.get("Subnet")
            if subnet and ":" not in subnet:
                nets.append(ipaddress.ip_network(subnet, strict=False))
    return nets


def free_subnets(used: Iterable[ipaddress.IPv4Network], start: int = 0,
                 pool: ipaddress.IPv4Network = SUBNET_POOL) -> list[ipaddress.IPv4Network]:
    """/24s of `pool` overlapping none of `used`, rotated to begin at index `start`."""
    used = list(used)
    candidates = list(pool.subnets(new_prefix=24))
    start %= len(candidates)
    rotated = candidates[start:] + candidates[:start]
    return [c for c in rotated if not any(c.overlaps(u) for u in used)]


def free_ports(count: int) -> list[int]:
    """`count` distinct free TCP ports on 127.0.0.1 (held together while chosen)."""
    with ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
        return ports


def remove_labelled(client: docker.DockerClient, run_id: str | None = None) -> dict[str, int]:
    """Remove containers, then networks, then volumes of `run_id` (all runs if None).

    Returns how many of each were removed; resources that vanish meanwhile are
    not errors, so this is safe to run twice or concurrently with a teardown.
    """
    selector = f"{RUN_LABEL}={run_id}" if run_id is not None else RUN_LABEL
    flt = {"label": selector}
    removed = {"containers": 0, "networks": 0, "volumes": 0}
    for container in client.containers.list(all=True, sparse=True, filters=flt):
        try:
            container.remove(force=True, v=True)
            removed["containers"] += 1
        except docker.errors.NotFound:
            pass
    for network in client.networks.list(filters=flt):
        try:
            network.remove()
            removed["networks"] += 1
        except docker.errors.NotFound:
            pass
    for volume in client.volumes.list(filters=flt):
        try:
            volume.remove(force=True)
            removed["volumes"] += 1
        except docker.errors.NotFound:
            pass
    return removed


def list_labelled(client: docker.DockerClient, run_id: str | None = None) -> list[str]:
    """Names of every remaining resource of `run_id` (all runs if None)."""
    selector = f"{RUN_LABEL}={run_id}" if run_id is not None else RUN_LABEL
    flt = {"label": selector}
    return (
        [f"container {c.name}" for c in client.containers.list(all=True, filters=flt)]
        + [f"network {n.name}" for n in client.networks.list(filters=flt)]
        + [f"volume {v.name}" for v in client.volumes.list(filters=flt)]
    )


def resource_labels(attrs: dict) -> dict[str, str]:
    """A resource's labels: top level in listings, under Config in a container's inspect."""
    return attrs.get("Labels") or (attrs.get("Config") or {}).get("Labels") or {}


def run_owners(client: docker.DockerClient) -> dict[str, set[Owner | None]]:
    """Every run with a labelled resource, and the owners its resources record.

    None stands for a resource without an owner label (made by an older
    harness) or with one that is not ours to parse.
    """
    flt = {"filters": {"label": RUN_LABEL}}
    found: dict[str, set[Owner | None]] = {}
    # sparse: no inspect per container, which fails for one removed meanwhile
    for listing in (client.containers.list(all=True, sparse=True, **flt),
                    client.networks.list(**flt), client.volumes.list(**flt)):
        for resource in listing:
            tags = resource_labels(resource.attrs)
            owner = tags.get(OWNER_LABEL)
            found.setdefault(tags.get(RUN_LABEL, "?"), set()).add(
                Owner.from_label(owner) if owner else None)
    return found


def orphaned_runs(client: docker.DockerClient, unowned: bool) -> list[str]:
    """Runs whose every recorded owner is dead (with `unowned`, also runs that record none)."""
    orphans = []
    for run_id, owners in sorted(run_owners(client).items()):
        known = [owner for owner in owners if owner is not None]
        if any(owner.alive() for owner in known):
            continue
        if known or unowned:
            orphans.append(run_id)
    return orphans


def docker_error_line(exc: BaseException) -> str:
    """The first line of a Docker SDK error, for a one-line message."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
