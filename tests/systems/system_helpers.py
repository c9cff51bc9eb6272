"""Helpers for the system tests: the quorumlab CLI in a subprocess, and run folders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[2]


def quorumlab(*args: str, pythonpath: tuple[Path, ...] = (), timeout: float = 120,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m harness ARGS` from the repository root, with extra import paths
    and environment variables."""
    env = {**os.environ, **(env or {}),
           "PYTHONPATH": os.pathsep.join(str(p) for p in (*pythonpath, REPO))}
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True,
                          text=True, timeout=timeout, env=env, cwd=REPO)


def latest_run(store: Path, name: str = "quorumlab") -> tuple[list[dict], dict]:
    """The newest run's history events and results.json."""
    run = store / name / "latest"
    events = [orjson.loads(line) for line in (run / "history.jsonl").read_bytes().splitlines()]
    return events, orjson.loads((run / "results.json").read_bytes())
