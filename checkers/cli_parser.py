"""The argument parser every quorumlab command line uses.

argparse prints its usage and exits 2 on a bad flag, and 2 means "unknown" to
anyone reading quorumlab's exit codes; this parser says what is wrong in one
line and exits 254 (bad input) instead. The replica has its own copy because
it must run with nothing of the project installed.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from checkers.exits import EXIT_BAD_INPUT


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse that reports a bad flag in one line and exits 254 (bad input)."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_BAD_INPUT)
