"""Run folders: histories/<test-name>/<UTC timestamp>/ and a `latest` link.

results.json is written atomically (temporary file, then rename), so a reader
never sees a half-written one.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson


@dataclass(frozen=True)
class RunFolder:
    path: Path

    @property
    def history(self) -> Path:
        return self.path / "history.jsonl"

    def write_json(self, name: str, data: Any) -> Path:
        """Write `name` atomically, pretty-printed."""
        target = self.path / name
        temporary = target.with_suffix(target.suffix + ".tmp")
        temporary.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")
        os.replace(temporary, target)
        return target


def create_run_folder(store_dir: Path, name: str) -> RunFolder:
    """Make a fresh folder for one run and point `<name>/latest` at it.

    The path is absolute: backends start nodes in other working directories."""
    test_dir = store_dir.resolve() / name
    test_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    path = test_dir / stamp
    suffix = 1
    while path.exists():
        suffix += 1
        path = test_dir / f"{stamp}-{suffix}"
    path.mkdir()
    (path / "nodes").mkdir()
    latest = test_dir / "latest"
    temporary = test_dir / f".latest-{os.getpid()}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(path.name)
    os.replace(temporary, latest)
    return RunFolder(path)
