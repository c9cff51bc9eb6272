"""The node's wall clock: time.time() plus an offset read from a file.

A nemesis skews a node's clock by writing seconds (a float) into the file, with
no privileges needed. Only the ``wall-clock`` bug uses this clock for versions.
"""

from __future__ import annotations

import os
import time
from pathlib import Path


class WallClock:
    """time.time() + offset; the file is re-read only when it changes."""

    def __init__(self, offset_file: Path | None = None) -> None:
        self._path = offset_file
        self._stamp: tuple[int, int] | None = None
        self._offset = 0.0

    def offset(self) -> float:
        if self._path is None:
            return 0.0
        try:
            st = os.stat(self._path)
        except FileNotFoundError:
            self._stamp, self._offset = None, 0.0
            return 0.0
        stamp = (st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:
            try:
                self._offset = float(self._path.read_text().strip() or 0.0)
            except (OSError, ValueError):
                self._offset = 0.0  # a half-written file: read it again next time
                return 0.0
            self._stamp = stamp
        return self._offset

    def now(self) -> float:
        return time.time() + self.offset()

    def micros(self) -> int:
        return int(self.now() * 1_000_000)
