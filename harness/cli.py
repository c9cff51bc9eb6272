"""The `quorumlab` command: one subcommand per job, each in its own module.

Every subcommand module exposes ``add_parser(subparsers)`` which registers its
parser and sets ``func`` (``args -> exit code``) as a default.
"""

from __future__ import annotations

import argparse
import sys
from importlib import import_module

from checkers.result import EXIT_BAD_INPUT

SUBCOMMAND_MODULES = (
    "harness.run_command",
    "harness.matrix_command",
    "checkers.cli",
    "harness.image_command",
    "harness.cleanup_command",
    "harness.systems_command",
)


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse that reports a bad flag in one line and exits 254 (bad input)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_BAD_INPUT)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrorParser(
        prog="quorumlab",
        description="Consistency tests for leaderless quorum replication.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMAND_MODULES:
        import_module(name).add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
