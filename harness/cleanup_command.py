"""`quorumlab cleanup`: remove what crashed runs left in Docker.

The safety net behind each run's own teardown: containers, networks and
volumes labelled `quorumlab.run` (of every run, or of one with --run).
"""

from __future__ import annotations

import argparse
import sys

from checkers.result import EXIT_HARNESS_FAILURE


def cleanup(args: argparse.Namespace) -> int:
    import docker
    import docker.errors

    from harness.docker_resources import remove_labelled

    try:
        client = docker.from_env(timeout=60)
        removed = remove_labelled(client, args.run)
    except docker.errors.DockerException as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        sys.stderr.write(f"quorumlab cleanup: Docker is not usable: {first}\n")
        return EXIT_HARNESS_FAILURE
    print(", ".join(f"{count} {kind}" for kind, count in removed.items()) + " removed")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cleanup", help="remove Docker containers, networks and volumes left by runs",
        description="Remove every Docker container, network and volume labelled "
        "quorumlab.run (all runs, or only --run ID).")
    parser.add_argument("--run", metavar="ID", help="only this run's resources")
    parser.set_defaults(func=cleanup)
