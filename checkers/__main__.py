"""``python -m checkers check PATH...``: the checkers alone, without the harness."""

from __future__ import annotations

import argparse
import sys

from checkers import cli
from checkers.result import EXIT_BAD_INPUT


class _OneLineErrorParser(argparse.ArgumentParser):
    """Bad flags: one line on stderr and exit 254, as ``quorumlab`` does."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_BAD_INPUT)


def main(argv: list[str] | None = None) -> int:
    parser = _OneLineErrorParser(prog="python -m checkers")
    cli.add_parser(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
