"""Exit codes: one per outcome, and the worst of several is the one reported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from checkers.exits import (
    EXIT_BAD_INPUT,
    EXIT_HARNESS_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_INVALID,
    EXIT_UNKNOWN,
    EXIT_VALID,
    exit_code,
    worst,
)

REPO = Path(__file__).resolve().parents[2]


def test_verdicts_map_to_their_codes() -> None:
    assert [exit_code(v) for v in (True, False, "unknown")] == [0, 1, 2]


@pytest.mark.parametrize(("codes", "expected"), [
    ([], EXIT_VALID),
    ([EXIT_VALID, EXIT_UNKNOWN], EXIT_UNKNOWN),
    ([EXIT_UNKNOWN, EXIT_INVALID, EXIT_VALID], EXIT_INVALID),
    ([EXIT_INVALID, EXIT_BAD_INPUT], EXIT_BAD_INPUT),
    ([EXIT_HARNESS_FAILURE, EXIT_BAD_INPUT], EXIT_HARNESS_FAILURE),
    ([EXIT_INTERRUPTED, EXIT_HARNESS_FAILURE, EXIT_INVALID], EXIT_INTERRUPTED),
])
def test_worst_follows_the_severity_order(codes: list[int], expected: int) -> None:
    assert worst(codes) == expected


def test_a_bad_flag_is_one_line_and_exit_254() -> None:
    proc = subprocess.run([sys.executable, "-m", "checkers", "check", "--no-such-flag", "x"],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == EXIT_BAD_INPUT
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "unrecognized arguments: --no-such-flag" in proc.stderr
