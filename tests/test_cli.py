"""The top-level CLI: bad flags are one-line errors with exit 254."""

from __future__ import annotations

import os
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
    for command in ("run", "check", "image", "cleanup", "systems"):
        proc = subprocess.run([sys.executable, "-m", "harness", command, "--help"],
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, (command, proc.stderr)
        assert "usage:" in proc.stdout


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True,
                          text=True, timeout=60, env=env)


def test_bad_run_values_are_one_line_errors_exit_254() -> None:
    for args in (["--r", "9"], ["--nemesis", "bogus"], ["--nodes", "x"],
                 ["--replica-cmd", "srv {port}"], ["--r", "1", "--w", "1"]):
        proc = run_cli("run", *args)
        assert proc.returncode == 254, args
        assert proc.stderr.count("\n") == 1 and "error" in proc.stderr, args


def test_too_few_nodes_for_the_nemesis_names_nodes() -> None:
    proc = run_cli("run", "--nodes", "0")
    assert proc.returncode == 254
    assert proc.stderr.count("\n") == 1 and "--nodes" in proc.stderr


def test_docker_backend_without_a_daemon_is_one_line_exit_255(tmp_path) -> None:
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-such.sock"}
    proc = run_cli("run", "--backend", "docker", "--store-dir", str(tmp_path), env=env)
    assert proc.returncode == 255
    assert proc.stderr.count("\n") == 1 and "Docker" in proc.stderr
    assert not (tmp_path / "quorumlab").exists()  # nothing was started or recorded
    for command in (["run"], ["cluster", "up"]):  # an image cannot go local: no such advice
        proc = run_cli(*command, "--backend", "docker", "--replica-image", "mine:1",
                       "--store-dir", str(tmp_path), env=env)
        assert proc.returncode == 255, (command, proc.stderr)
        assert proc.stderr.count("\n") == 1 and "--replica-image needs one" in proc.stderr
        assert "--backend local" not in proc.stderr


def test_a_fault_the_backend_cannot_cause_is_refused_before_anything_starts(
        tmp_path, monkeypatch, capsys) -> None:
    from harness.backends.local import LocalBackend
    from harness.cli import main
    from nemesis.capabilities import ClockControl, ProcessControl

    monkeypatch.setattr(LocalBackend, "CAPABILITIES", frozenset({ProcessControl, ClockControl}))
    code = main(["run", "--backend", "local", "--nemesis", "kill,delay",
                 "--store-dir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 254
    assert err.count("\n") == 1
    assert "'delay' needs network faults" in err and "local backend" in err
    assert list(tmp_path.iterdir()) == [], "no run folder: nothing started"


def test_a_replica_image_on_the_local_backend_is_a_one_line_error(tmp_path) -> None:
    for command in (["run"], ["cluster", "up"]):
        proc = run_cli(*command, "--backend", "local", "--replica-image", "mine:1",
                       "--store-dir", str(tmp_path))
        assert proc.returncode == 254, (command, proc.stderr)
        assert proc.stderr.count("\n") == 1 and "docker backend, not local" in proc.stderr
