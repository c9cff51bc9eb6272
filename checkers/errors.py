"""Errors a checker user can cause (bad files, bad options): one clear line each."""

from __future__ import annotations

import re
from pathlib import Path


class HistoryError(ValueError):
    """A history that cannot be read: names the file (and line) and what is wrong.

    The CLI prints ``str(error)`` as one line and exits 254 (bad input), so the
    message must stand on its own; line breaks in it (a parser quoting the bad
    text) are folded into spaces.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        message = re.sub(r"\s*[\r\n]+\s*", " ", message)
        self.path = path
        self.line = line
        self.reason = message
        where = path if line is None else f"{path}:{line}"
        super().__init__(f"{where}: {message}" if where else message)


def read_text(path: str | Path) -> str:
    """A history file's text; HistoryError (never a traceback) if it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise HistoryError(f"not UTF-8 text ({exc.reason})", path=str(path)) from None
    except OSError as exc:
        raise HistoryError(f"cannot read: {exc.strerror or exc}", path=str(path)) from None
