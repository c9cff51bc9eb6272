"""Every run under a store directory, read back from its folder: what `quorumlab serve` lists.

A run folder is one holding config.json (the runner writes it first) or a
history. Its state follows from what is on disk and from its owner
(harness/owner.py, recorded in config.json): results.json means it ended
(with a verdict, or incomplete); without one, a live owner means it is
running and a dead one that it crashed, and its history can still be
checked. Folders are found without following symlinks (``latest`` would
list a run twice, and a link could lead out of the store).
"""

from __future__ import annotations

import calendar
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from harness.owner import Owner

RUN_MARKERS = ("config.json", "history.jsonl")
STAMP = "%Y%m%dT%H%M%S"
STATES = ("valid", "invalid", "unknown", "running", "crashed", "incomplete", "failed")


@dataclass
class RunEntry:
    """One run as the list shows it."""

    path: str  # relative to the store, with "/" separators
    name: str
    started: float  # seconds since the epoch (UTC)
    state: str  # one of STATES
    system: str = ""
    backend: str = ""
    seed: int | None = None
    anomalies: dict[str, int] = field(default_factory=dict)  # kind -> count
    duration_s: float | None = None
    error: str | None = None
    has_report: bool = False

    @property
    def started_text(self) -> str:
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.started))


def list_runs(store: Path) -> list[RunEntry]:
    """Every run below ``store``, newest first."""
    entries = []
    for root, dirs, files in os.walk(store):  # symlinked folders are listed, not entered
        if any(marker in files for marker in RUN_MARKERS):
            dirs.clear()  # nodes/ and data/ hold no runs
            entries.append(read_run(store, Path(root)))
        else:
            dirs.sort()
    return sorted(entries, key=lambda entry: (entry.started, entry.path), reverse=True)


def read_run(store: Path, folder: Path) -> RunEntry:
    """What a run folder says about its run; never raises on a damaged folder."""
    stored = _json(folder / "config.json") or {}
    config = stored.get("config") if isinstance(stored.get("config"), dict) else {}
    results = _json(folder / "results.json")
    entry = RunEntry(
        path=folder.relative_to(store).as_posix(),
        name=str(config.get("name") or folder.parent.name), started=_started(folder),
        state="crashed", system=str(config.get("system", "")),
        backend=str(stored.get("backend", "")),
        seed=config.get("seed") if isinstance(config.get("seed"), int) else None,
        has_report=(folder / "report.html").is_file())
    if results is None:
        owner = Owner.from_label(str(stored.get("owner", "")))
        if owner is not None and owner.alive():
            entry.state = "running"
            entry.duration_s = max(0.0, time.time() - entry.started)
        else:
            entry.error = ("its owner died before writing results" if owner is not None
                           else "no results, and no owner recorded")
        return entry
    phases = results.get("phases")
    entry.duration_s = sum(phases.values()) if isinstance(phases, dict) else None
    entry.error = results.get("error")
    entry.anomalies = _anomaly_counts(results)
    verdict = results.get("valid")
    if results.get("incomplete"):
        entry.state = "incomplete"
    elif verdict is True:
        entry.state = "valid"
    elif verdict is False:
        entry.state = "invalid"
    elif verdict == "unknown":
        entry.state = "unknown"
    else:
        entry.state = "failed"
    return entry


def _anomaly_counts(results: dict[str, Any]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for result in (results.get("checkers") or {}).get("results", []):
        counts.update(str(anomaly.get("kind")) for anomaly in result.get("anomalies", []))
    return dict(sorted(counts.items()))


def _started(folder: Path) -> float:
    """From the folder's UTC timestamp name, else when it was made."""
    try:
        return float(calendar.timegm(time.strptime(folder.name.split("-")[0], STAMP)))
    except ValueError:
        return folder.stat().st_mtime


def _json(path: Path) -> dict[str, Any] | None:
    try:
        value = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    return value if isinstance(value, dict) else None
