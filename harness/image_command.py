"""`quorumlab image build`: build (or find) the replica image, offline if need be."""

from __future__ import annotations

import argparse
import sys

from checkers.exits import EXIT_HARNESS_FAILURE


def build(args: argparse.Namespace) -> int:
    import docker.errors

    from harness.backends.docker.bootstrap import ImageBuildError
    from harness.backends.docker.image import ensure_image
    from harness.backends.docker.resources import docker_error_line

    try:
        tag = ensure_image(base=args.base)
    except ImageBuildError as exc:
        sys.stderr.write(f"quorumlab image build: {exc}\n")
        return EXIT_HARNESS_FAILURE
    except docker.errors.DockerException as exc:
        sys.stderr.write(f"quorumlab image build: Docker is not usable: {docker_error_line(exc)}\n")
        return EXIT_HARNESS_FAILURE
    print(tag)
    return 0


def remove(args: argparse.Namespace) -> int:
    import docker
    import docker.errors

    from harness.backends.docker.image import remove_images
    from harness.backends.docker.resources import docker_error_line

    try:
        removed = remove_images(docker.from_env(timeout=60))
    except docker.errors.DockerException as exc:
        sys.stderr.write(
            f"quorumlab image remove: Docker is not usable: {docker_error_line(exc)}\n")
        return EXIT_HARNESS_FAILURE
    print(f"{len(removed)} images removed" + "".join(f"\n  {tag}" for tag in removed))
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "image", help="build the replica's Docker image (no registry needed)",
        description="Manage the Docker image the docker backend runs.")
    actions = parser.add_subparsers(dest="image_command", metavar="ACTION", required=True)
    build_parser = actions.add_parser(
        "build", help="build the replica image if its inputs changed; print its tag",
        description="Build quorumlab-replica:<hash of inputs>. --base auto uses "
        "python:3.11-slim when present or pullable, else bootstraps a Debian base "
        "with debootstrap from the host's apt mirror.")
    build_parser.add_argument("--base", default="auto", metavar="auto|NAME",
                              help="base image (default: auto)")
    build_parser.set_defaults(func=build)
    remove_parser = actions.add_parser(
        "remove", help="remove every quorumlab image (the next build starts cold)",
        description="Remove every image tagged quorumlab-* (replica, systems' images and "
        "bootstrapped bases), even one a stopped container uses, so that the next build "
        "starts from nothing.")
    remove_parser.set_defaults(func=remove)
