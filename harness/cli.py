"""The `quorumlab` command: one subcommand per job, each in its own module.

Every subcommand module exposes ``add_parser(subparsers)`` which registers its
parser and sets ``func`` (``args -> exit code``) as a default. Only the module of
the command being run is imported (all of them for ``--help`` or a typo), so
``quorumlab check`` starts without what only ``run`` needs (aiohttp, matplotlib).
"""

from __future__ import annotations

import argparse
import sys
from importlib import import_module

from checkers.cli_parser import OneLineErrorParser, as_whole_process
from harness.version import quorumlab_version

SUBCOMMAND_MODULES = {
    "run": "harness.run_command",
    "matrix": "harness.matrix_command",
    "check": "harness.check_command",
    "image": "harness.image_command",
    "cleanup": "harness.cleanup_command",
    "systems": "harness.systems_command",
    "serve": "harness.serve_command",
    "cluster": "harness.cluster_command",
    "fault": "harness.fault_command",
    "kv": "harness.kv_command",
    "load": "harness.load_command",
    "sim": "sim.cli",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser with ``command``'s subcommand only, or every one (None)."""
    parser = OneLineErrorParser(
        prog="quorumlab",
        description="Consistency tests for leaderless quorum replication.",
    )
    parser.add_argument("--version", action="version",
                        version=f"quorumlab {quorumlab_version()}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module in SUBCOMMAND_MODULES.items():
        if command in (None, name):
            import_module(module).add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None, *, exit_process: bool = False) -> int:
    """Run one command. ``exit_process``: this command is the process's whole
    job, so a command may end the process itself once done (``quorumlab
    check`` does, to skip freeing a large history: checkers.cli.exit_at_once)."""
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv and argv[0] in SUBCOMMAND_MODULES else None
    args = build_parser(command).parse_args(argv)
    args.exit_process = exit_process
    return int(args.func(args))


def console() -> int:
    """The ``quorumlab`` script and ``python -m harness``."""
    return as_whole_process(lambda: main(exit_process=True))


if __name__ == "__main__":
    raise SystemExit(console())
