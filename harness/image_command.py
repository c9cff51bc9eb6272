"""`quorumlab image build`: build (or find) a system's node image, offline if need be."""

from __future__ import annotations

import argparse
import importlib
import sys

from checkers.exits import EXIT_BAD_INPUT, EXIT_HARNESS_FAILURE

# The images of systems other than the replica's (http), imported only when asked for.
SYSTEM_IMAGES = {
    "etcd": "harness.systems.etcd.image:ensure_etcd_image",
    "garage": "harness.systems.garage.image:ensure_garage_image",
}


def _ensure(system: str, base: str) -> str:
    """Build (or find) ``system``'s node image; its tag."""
    import docker

    from harness.backends.docker.image import ensure_image

    if system == "http":
        return ensure_image(base=base)
    module, _, name = SYSTEM_IMAGES[system].partition(":")
    return getattr(importlib.import_module(module), name)(docker.from_env(timeout=300))


def build(args: argparse.Namespace) -> int:
    import docker.errors

    from harness.backends.docker.bootstrap import ImageBuildError
    from harness.backends.docker.resources import docker_error_line

    if args.system != "http" and args.base != "auto":
        sys.stderr.write(f"quorumlab image build: --base applies to the http system only "
                         f"(the {args.system} image is built on a bootstrapped base)\n")
        return EXIT_BAD_INPUT
    try:
        tag = _ensure(args.system, args.base)
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
                              help="base image of the http system's image (default: auto)")
    build_parser.add_argument("--system", default="http", choices=["http", *SYSTEM_IMAGES],
                              help="whose node image: the replica's (http, default), "
                                   "etcd's, or garage's (builds the pinned garage with "
                                   "cargo first, once)")
    build_parser.set_defaults(func=build)
    remove_parser = actions.add_parser(
        "remove", help="remove every quorumlab image (the next build starts cold)",
        description="Remove every image tagged quorumlab-* (replica, systems' images and "
        "bootstrapped bases), even one a stopped container uses, so that the next build "
        "starts from nothing.")
    remove_parser.set_defaults(func=remove)
