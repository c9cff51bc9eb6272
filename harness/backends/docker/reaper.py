"""The reaper: a watchdog that outlives the controller and sweeps what dead owners left.

A run's own teardown removes its containers, network and volumes, but a
SIGKILLed controller runs no teardown. So every Docker run makes sure one
reaper process is alive on the machine (testcontainers' Ryuk is the model):
a detached process, in a session of its own, that every few seconds lists the
labelled resources and removes each run whose recorded owner (harness.owner)
is provably dead. A live owner's run is never touched, whoever created it.

One reaper per machine is enough and a flock on a file in the temp folder
makes it so: a second one started meanwhile finds the lock taken and exits.
With nothing labelled left for IDLE_EXIT_S the reaper exits too; before
exiting it lets go of the lock and looks once more, so a run that found the
lock taken (and so started no reaper) just before is still seen and watched.

    python -m harness.backends.docker.reaper     # what ensure_reaper() starts
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

import docker
import docker.errors

from harness.backends.docker.resources import (
    docker_error_line,
    orphaned_runs,
    remove_labelled,
    run_owners,
)

POLL_S = 2.0
IDLE_EXIT_S = 60.0
log = logging.getLogger("quorumlab.reaper")


def _state_path(suffix: str) -> Path:
    return Path(tempfile.gettempdir()) / f"quorumlab-reaper-{os.getuid()}.{suffix}"


def _try_lock(path: Path) -> IO[bytes] | None:
    """The lock file held open and locked, or None when another process holds it."""
    handle = path.open("ab")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def ensure_reaper() -> None:
    """Start the machine's reaper unless one already holds the lock.

    Call it before creating resources (so an owner killed mid-setup is covered)
    and again after (to close the window in which an idle reaper was exiting).
    """
    held = _try_lock(_state_path("lock"))
    if held is None:
        return  # a reaper is alive
    held.close()
    with _state_path("log").open("ab") as log_file:
        subprocess.Popen(
            [sys.executable, "-m", "harness.backends.docker.reaper"], stdin=subprocess.DEVNULL,
            stdout=log_file, stderr=log_file, start_new_session=True, close_fds=True,
            cwd="/", env={**os.environ, "PYTHONPATH": _import_root()})


def _import_root() -> str:
    """Where `harness` imports from, so the detached reaper finds the same code."""
    import harness  # the package's own location, wherever this module sits inside it

    root = str(Path(harness.__file__).resolve().parent.parent)
    extra = os.environ.get("PYTHONPATH")
    return f"{root}{os.pathsep}{extra}" if extra else root


def sweep(client: docker.DockerClient) -> list[str]:
    """Remove every run whose owner is dead; the ids removed."""
    swept = []
    for run_id in orphaned_runs(client, unowned=False):
        removed = remove_labelled(client, run_id)
        log.info("swept run %s (owner gone): %s", run_id, removed)
        swept.append(run_id)
    return swept


def reap(lock: IO[bytes], client: docker.DockerClient) -> None:
    """Sweep until nothing labelled has been seen for IDLE_EXIT_S, then exit."""
    last_seen = time.monotonic()
    while True:
        try:
            sweep(client)
            busy = bool(run_owners(client))
        except docker.errors.DockerException as exc:
            log.warning("docker: %s", docker_error_line(exc))
            busy = True  # the daemon may come back: keep watching
        now = time.monotonic()
        if busy:
            last_seen = now
        elif now - last_seen >= IDLE_EXIT_S:
            lock.close()  # let a new reaper start from here on, then look once more
            with contextlib.suppress(docker.errors.DockerException):
                if not run_owners(client):
                    return
            relocked = _try_lock(_state_path("lock"))
            if relocked is None:
                return  # a newer reaper took over
            lock, last_seen = relocked, now
        time.sleep(POLL_S)


def main() -> int:
    logging.basicConfig(format="%(asctime)s reaper[%(process)d] %(message)s",
                        level=logging.INFO, stream=sys.stderr)
    lock = _try_lock(_state_path("lock"))
    if lock is None:
        return 0  # another reaper is on watch
    try:
        client = docker.from_env(timeout=60)
    except docker.errors.DockerException as exc:
        log.warning("no Docker daemon: %s", docker_error_line(exc))
        return 1
    log.info("watching for runs whose owner is gone")
    reap(lock, client)
    log.info("nothing labelled left: exiting")
    return 0


if __name__ == "__main__":
    sys.exit(main())
