"""Where a live cluster is recorded, and how the shell commands find it.

A cluster's folder (histories/<name>/<UTC timestamp>/, a run folder) holds
session.json: its state (starting, up, failed, down), its supervisor (owner
label and pid), the control socket and the nodes' addresses. The supervisor
writes it; the commands only read it. `<store>/.clusters/<name>` names the
folder of the cluster called <name>, so a command finds it by --name or, with
none given, as the only live one. Live means the recorded owner is alive
(harness.owner), never just that a file says "up".

The control socket lives in the temp folder, not the store: a Unix socket's
path is limited to about 100 bytes, which a deep store directory exceeds.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from harness.owner import Owner
from harness.run_folder import RunFolder

STATE_FILE = "session.json"
REGISTRY = ".clusters"
LIVE_STATES = ("starting", "up")


class NoCluster(LookupError):
    """No cluster matches; the message is one line for the user."""


@dataclass
class SessionState:
    """What session.json says about one cluster."""

    name: str
    folder: Path
    backend: str
    run_id: str
    state: str = "starting"
    owner: str | None = None  # the supervisor, as an Owner label
    socket: str | None = None
    nodes: dict[str, str] = field(default_factory=dict)  # node -> public URL
    error: str | None = None

    @property
    def pid(self) -> int | None:
        owner = Owner.from_label(self.owner) if self.owner else None
        return owner.pid if owner else None

    def supervisor_alive(self) -> bool:
        owner = Owner.from_label(self.owner) if self.owner else None
        return owner is not None and owner.alive()

    def live(self) -> bool:
        return self.state in LIVE_STATES and self.supervisor_alive()

    def write(self) -> None:
        data = {k: str(v) if isinstance(v, Path) else v
                for k, v in dataclasses.asdict(self).items()}
        RunFolder(self.folder).write_json(STATE_FILE, data)

    @classmethod
    def read(cls, folder: Path) -> SessionState:
        """The state in ``folder``; NoCluster when there is none or it is unreadable."""
        try:
            data: dict[str, Any] = orjson.loads((folder / STATE_FILE).read_bytes())
            data["folder"] = Path(data["folder"])
            return cls(**data)
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise NoCluster(f"{folder}: no readable {STATE_FILE} ({exc})") from None


def socket_path(run_id: str) -> Path:
    """The control socket of run ``run_id``, in a folder only this user can enter."""
    folder = Path(tempfile.gettempdir()) / f"quorumlab-sessions-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder / f"{run_id}.sock"


def register(store: Path, name: str, folder: Path) -> None:
    """Make ``name`` find ``folder`` (replacing an earlier cluster of that name)."""
    registry = store / REGISTRY
    registry.mkdir(parents=True, exist_ok=True)
    temporary = registry / f".{name}.{os.getpid()}"
    temporary.write_text(f"{folder.resolve()}\n")
    temporary.replace(registry / name)


def unregister(store: Path, name: str) -> None:
    (store / REGISTRY / name).unlink(missing_ok=True)


def registered(store: Path) -> list[SessionState]:
    """Every cluster the store names, live or not, by name."""
    registry = store / REGISTRY
    states = []
    for entry in sorted(registry.iterdir()) if registry.is_dir() else []:
        if entry.name.startswith("."):
            continue
        try:
            states.append(SessionState.read(Path(entry.read_text().strip())))
        except (NoCluster, OSError):
            continue  # a folder deleted by hand: nothing to find there
    return states


def find_cluster(store: Path, name: str | None) -> SessionState:
    """The cluster called ``name`` (live or not), or with None the only live one."""
    if name is not None:
        entry = store / REGISTRY / name
        if not entry.is_file():
            raise NoCluster(f"no cluster named {name!r} in {store} "
                            "(start one with `quorumlab cluster up --name ...`)")
        return SessionState.read(Path(entry.read_text().strip()))
    states = registered(store)
    live = [state for state in states if state.live()]
    if len(live) == 1:
        return live[0]
    if live:
        raise NoCluster(f"{len(live)} live clusters in {store} "
                        f"({', '.join(s.name for s in live)}): pass --name")
    gone = [s.name for s in states if s.state in LIVE_STATES]
    hint = (f"; {', '.join(gone)} lost its supervisor (`quorumlab cluster down --name "
            f"{gone[0]}` forgets it)" if gone else "")
    raise NoCluster(f"no live cluster in {store} (start one with `quorumlab cluster up`)"
                    + hint)
