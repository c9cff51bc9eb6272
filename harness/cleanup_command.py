"""`quorumlab cleanup`: remove what crashed runs left in Docker.

The safety net behind each run's own teardown and the reaper: containers,
networks and volumes labelled `quorumlab.run` whose owner is gone. A run whose
owner still lives (another `quorumlab run`, a `cluster up` supervisor) is left
alone unless it is named with --run or everything is asked for with --all.
Resources that record no owner (made by an older harness) count as orphaned
here, since a person asked; the reaper, which nobody asked, leaves them.
"""

from __future__ import annotations

import argparse
import sys

from checkers.exits import EXIT_HARNESS_FAILURE


def cleanup(args: argparse.Namespace) -> int:
    import docker
    import docker.errors

    from harness.backends.docker.resources import docker_error_line, orphaned_runs, remove_labelled

    removed = {"containers": 0, "networks": 0, "volumes": 0}
    try:
        client = docker.from_env(timeout=60)
        if args.run is not None:
            runs: list[str | None] = [args.run]
        elif args.all:
            runs = [None]
        else:
            runs = list(orphaned_runs(client, unowned=True))
        for run_id in runs:
            for kind, count in remove_labelled(client, run_id).items():
                removed[kind] += count
    except docker.errors.DockerException as exc:
        sys.stderr.write(f"quorumlab cleanup: Docker is not usable: {docker_error_line(exc)}\n")
        return EXIT_HARNESS_FAILURE
    print(", ".join(f"{count} {kind}" for kind, count in removed.items()) + " removed")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "cleanup", help="remove Docker containers, networks and volumes left by dead runs",
        description="Remove the Docker containers, networks and volumes labelled "
        "quorumlab.run whose owner process is gone (or records none). Runs whose "
        "owner is alive are never touched, unless named with --run or with --all.")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--run", metavar="ID",
                       help="only this run's resources, even if its owner is still alive")
    which.add_argument("--all", action="store_true",
                       help="every labelled resource, including those of runs and clusters "
                            "that are still running (they will break)")
    parser.set_defaults(func=cleanup)
