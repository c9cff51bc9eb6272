"""Owners are judged alive or dead by pid and start time, never by pid alone."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from harness.owner import Owner


def test_the_current_process_is_alive_and_round_trips_through_its_label() -> None:
    me = Owner.current()
    assert me.alive()
    assert Owner.from_label(me.to_label()) == me


def test_a_dead_process_is_dead() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    owner = Owner.of(child.pid)
    assert owner is not None and owner.alive()
    child.kill()
    child.wait()
    assert not owner.alive()
    assert Owner.of(child.pid) is None


def test_a_killed_process_not_yet_reaped_is_dead() -> None:
    """A zombie: it exited and owns nothing, though its pid and start time remain
    until its parent (here: not yet; for a detached supervisor, maybe never) reaps it."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    owner = Owner.of(child.pid)
    assert owner is not None and owner.alive()
    child.kill()
    deadline = time.monotonic() + 5
    while Path(f"/proc/{child.pid}/stat").read_text().split(") ")[1][0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert not owner.alive()
    child.wait()


def test_a_reused_pid_with_another_start_time_is_not_the_owner() -> None:
    me = Owner.current()
    assert not Owner(me.host, me.pid, me.start + 1).alive()


def test_an_owner_on_another_host_is_never_judged_dead() -> None:
    assert Owner("some-other-host", 1, 12345).alive()


def test_labels_that_are_not_owners_parse_to_none() -> None:
    for text in ("", "host", "host:12", "host:x:1", ":1:2"):
        assert Owner.from_label(text) is None
