"""Running the session commands as a user does, and finding what they left running."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.integration.run_helpers import REPO, quorumlab_env


def quorumlab(store: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`quorumlab ARGS --store-dir STORE`, as a subprocess."""
    return subprocess.run([sys.executable, "-m", "harness", *args, "--store-dir", str(store)],
                          capture_output=True, text=True, timeout=timeout, env=quorumlab_env(),
                          cwd=REPO)


def processes_mentioning(text: str) -> list[int]:
    """Pids of live processes whose command line contains ``text`` (zombies excluded)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            pids.append(int(entry.name))
    return pids


@contextlib.contextmanager
def supervisors_stopped(store: Path) -> Iterator[None]:
    """Whatever the test asserts, no supervisor it started outlives it (SIGTERM makes
    one tear its cluster down)."""
    try:
        yield
    finally:
        for pid in processes_mentioning(f"harness.session.supervisor {store}"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
