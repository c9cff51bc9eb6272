"""The node and agent command lines: documented flags, one-line errors, exit codes."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from replica_cluster import REPO, free_ports

from replica.protocol import BUGS


def run(*args: str, module: str = "replica") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, text=True,
                          capture_output=True, timeout=30)


def test_help_documents_every_flag_bug_and_exit_code() -> None:
    out = run("--help").stdout
    for flag in ("--id", "--listen", "--peers", "--n", "--r", "--w", "--data-dir",
                 "--request-timeout", "--anti-entropy-interval", "--clock-offset-file",
                 "--bug", "--allow-weak-quorum", "--no-group-commit", "exit status"):
        assert flag in out
    for bug, what in BUGS.items():
        assert f"  {bug:<16}{what}" in out
    assert "exit status" in run("--help", module="replica.agent").stdout


GOOD = ["--id", "n1", "--listen", "127.0.0.1:1", "--peers",
        "n1=127.0.0.1:1,n2=127.0.0.1:2,n3=127.0.0.1:3", "--n", "3", "--r", "2", "--w", "2",
        "--data-dir", "unused"]


def replaced(flag: str, value: str) -> list[str]:
    args = list(GOOD)
    args[args.index(flag) + 1] = value
    return args


@pytest.mark.parametrize(("args", "message"), [
    (GOOD[:-2], "required"),
    ([*GOOD, "--bogus"], "unrecognized"),
    ([*GOOD, "--bug", "nope"], "invalid choice"),
    (replaced("--peers", "n1=127.0.0.1:1,n2"), "bad peer"),
    (replaced("--peers", "n1=127.0.0.1:1,n1=127.0.0.1:2"), "twice"),
    (replaced("--peers", "n1=127.0.0.1:99999"), "bad address"),
    (replaced("--id", "n9"), "not in --peers"),
    (replaced("--n", "4"), "--n must be"),
    (replaced("--r", "1"), "weak quorum"),
    (replaced("--w", "0"), "--r and --w"),
    (replaced("--listen", "nowhere"), "bad address"),
    (replaced("--n", "x"), "invalid int"),
])
def test_bad_flags_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr


def test_agent_checks_flags_the_same_way() -> None:
    result = run("--listen", "127.0.0.1:1", "--peers", "n1=127.0.0.1:1,n2=127.0.0.1:2",
                 "--n", "2", "--r", "1", "--w", "1", module="replica.agent")
    assert result.returncode == 2 and "weak quorum" in result.stderr


def test_address_in_use_is_one_line_and_exit_1(tmp_path: Path) -> None:
    port = free_ports(1)[0]
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen()
        result = run("--id", "n1", "--listen", f"127.0.0.1:{port}", "--peers",
                     f"n1=127.0.0.1:{port}", "--n", "1", "--r", "1", "--w", "1",
                     "--data-dir", str(tmp_path))
    assert result.returncode == 1
    assert "cannot start" in result.stderr
    assert "Traceback" not in result.stderr
