"""The argument parser every quorumlab command line uses, and how a command
that is its process's whole job ends when its reader goes away.

argparse prints its usage and exits 2 on a bad flag, and 2 means "unknown" to
anyone reading quorumlab's exit codes; this parser says what is wrong in one
line and exits 254 (bad input) instead. The replica has its own copy because
it must run with nothing of the project installed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import NoReturn

from checkers.exits import EXIT_BAD_INPUT


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse that reports a bad flag in one line and exits 254 (bad input)."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_BAD_INPUT)


STDOUT_CLOSED = 120  # what Python itself exits with when stdout cannot be flushed


def as_whole_process(command: Callable[[], int]) -> int:
    """Run a command that is the process's whole job; a reader that closed its
    end of stdout (``| head``) ends it quietly with STDOUT_CLOSED, not a
    traceback: nothing more can be said there, and stderr is still open."""
    try:
        return command()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error
        return STDOUT_CLOSED
