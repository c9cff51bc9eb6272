"""Who owns what the harness starts: a process named so that its death can be proved.

Every labelled resource records its owner (host, pid, process start time), so
that whatever sweeps leftovers (the reaper, `quorumlab cleanup`) removes a
run's resources once its owner is gone and never touches a live one. The pid
alone is not enough: pids are reused, so the start time (in clock ticks since
boot, from /proc) tells the same process from a later one with its number.
The owner is whoever must keep the resources alive: the controller for
`quorumlab run`, a long-lived supervisor for a cluster meant to outlive its
command, so liveness is judged by the recorded owner, not by the creator.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


def _start_time(pid: int, proc: Path = PROC) -> int | None:
    """Field 22 of /proc/<pid>/stat (start time since boot), None if no such process
    or it has exited: a zombie (its parent has not reaped it yet, or, detached, it
    waits for an init that never reaps) owns nothing any more."""
    try:
        stat = (proc / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is parenthesised and may hold spaces or ')'.
    fields = stat[stat.rindex(")") + 2:].split()
    if fields[0] in ("Z", "X"):  # field 3, the state: zombie or dead
        return None
    return int(fields[19])


@dataclass(frozen=True)
class Owner:
    """A process on a host, identified across pid reuse by its start time."""

    host: str
    pid: int
    start: int

    @classmethod
    def current(cls) -> Owner:
        return cls.of(os.getpid()) or cls(socket.gethostname(), os.getpid(), 0)

    @classmethod
    def of(cls, pid: int) -> Owner | None:
        """The running process `pid` of this host; None when there is none."""
        start = _start_time(pid)
        return None if start is None else cls(socket.gethostname(), pid, start)

    def to_label(self) -> str:
        return f"{self.host}:{self.pid}:{self.start}"

    @classmethod
    def from_label(cls, text: str) -> Owner | None:
        """The owner a label names; None when it is not one of ours."""
        host, _, rest = text.rpartition(":")
        host, _, pid = host.rpartition(":")
        try:
            return cls(host, int(pid), int(rest)) if host else None
        except ValueError:
            return None

    def alive(self) -> bool:
        """False only when provably dead: on another host we cannot tell, so it is alive."""
        if self.host != socket.gethostname():
            return True
        return _start_time(self.pid) == self.start
