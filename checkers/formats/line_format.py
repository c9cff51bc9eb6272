"""What the one-event-per-line formats without times share: sniffing by the
first line, and loading in line order (each event's position is its time)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from checkers.errors import read_text
from checkers.formats.jsonl import paired_ops
from checkers.history import Event, History

# (path, line number, line, index of the event) -> the event; HistoryError if malformed
LineParser = Callable[[str | Path, int, str, int], Event]


def first_line_matches(text: str, pattern: re.Pattern[str]) -> bool:
    """True when the first non-blank line of `text` matches `pattern`."""
    for line in text.splitlines():
        if line.strip():
            return bool(pattern.match(line))
    return False


def load_lines(path: str | Path, parse: LineParser, *, crashed_processes_stop: bool) -> History:
    """Parse every non-blank line of `path` into an event, then pair them
    (``crashed_processes_stop``: as in :func:`checkers.history.pair_ops`)."""
    events: list[Event] = []
    lines: list[int] = []
    for number, line in enumerate(read_text(path).splitlines(), start=1):
        if not line.strip():
            continue
        events.append(parse(path, number, line, len(events)))
        lines.append(number)
    ops = paired_ops(events, lines, str(path), crashed_processes_stop=crashed_processes_stop)
    return History(events=events, ops=ops, source=str(path))
