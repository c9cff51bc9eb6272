"""The top-level CLI: bad flags are one-line errors with exit 254."""

from __future__ import annotations

import subprocess
import sys


def test_unknown_subcommand_is_one_line_error_exit_254() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "no-such-command"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 254
    assert proc.stderr.count("\n") == 1
    assert "error" in proc.stderr


def test_every_subcommand_has_help() -> None:
    for command in ("run", "check", "image", "cleanup"):
        proc = subprocess.run([sys.executable, "-m", "harness", command, "--help"],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, (command, proc.stderr)
        assert "usage:" in proc.stdout
