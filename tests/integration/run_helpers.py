"""Running `quorumlab run` as a user does, in a subprocess, and reading its run folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parents[2]


def quorumlab_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def quorumlab_command(store: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "harness", "run", "--backend", "local",
            "--store-dir", str(store), *args]


def run_quorumlab(store: Path, *args: str, timeout: float = 120) -> tuple[int, dict[str, Any]]:
    """Run one test; returns (exit code, results.json of the latest run)."""
    proc = subprocess.run(quorumlab_command(store, *args), capture_output=True, text=True,
                          timeout=timeout, env=quorumlab_env(), cwd=REPO)
    results_path = latest_run(store) / "results.json"
    assert results_path.exists(), proc.stderr[-2000:]
    return proc.returncode, orjson.loads(results_path.read_bytes())


def latest_run(store: Path) -> Path:
    return (store / "quorumlab" / "latest").resolve()


def anomaly_kinds(results: dict[str, Any]) -> set[str]:
    return {anomaly["kind"] for result in (results.get("checkers") or {}).get("results", [])
            for anomaly in result.get("anomalies", [])}


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line contains `text` (leak check)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().split(")")[-1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(int(entry.name))
    return found
