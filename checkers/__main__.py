"""``python -m checkers check PATH...``: the checkers alone, without the harness."""

from __future__ import annotations

from checkers import cli
from checkers.cli_parser import OneLineErrorParser, as_whole_process


def main(argv: list[str] | None = None, *, exit_process: bool = False) -> int:
    parser = OneLineErrorParser(prog="python -m checkers")
    cli.add_parser(parser.add_subparsers(dest="command", metavar="COMMAND", required=True))
    args = parser.parse_args(argv)
    args.exit_process = exit_process
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(as_whole_process(lambda: main(exit_process=True)))
