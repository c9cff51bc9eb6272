"""Jepsen's text log of a cas-register test (etcd), one event per line:

    INFO  jepsen.util - 3	:invoke	:cas	[1 4]

Fields are split on any whitespace: process, type, function, value. The value
is ``nil``, an integer, a vector ``[from to]`` for cas, or a keyword such as
``:timed-out`` on an ``info`` or ``fail`` completion, which is the reason, not a
value. The log has no times, so each event's position is its time.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from checkers.errors import HistoryError
from checkers.formats.line_format import first_line_matches, load_lines
from checkers.history import NEMESIS, UNKNOWN_VALUE, Event, History

MODEL = "cas-register"
_PREFIX = re.compile(r"^\s*INFO\s+jepsen\.util\s+-\s+")
_TYPES = frozenset({"invoke", "ok", "fail", "info"})


def sniff(text: str) -> bool:
    """True when the first non-blank line looks like a jepsen.util log line."""
    return first_line_matches(text, _PREFIX)


def load(path: str | Path) -> History:
    """Read a Jepsen text log; HistoryError naming file:line for a malformed line."""
    return load_lines(path, _parse_line, crashed_processes_stop=True)


def _parse_line(path: str | Path, number: int, line: str, index: int) -> Event:
    prefix = _PREFIX.match(line)
    if prefix is None:
        raise HistoryError(
            "expected 'INFO jepsen.util - <process> <:type> <:f> ...'", path=str(path), line=number
        )
    fields = line[prefix.end() :].split(None, 3)
    if len(fields) < 3:
        raise HistoryError("expected a process, a :type and a :f", path=str(path), line=number)
    process_text, type_text, f_text = fields[:3]
    value_text = fields[3].strip() if len(fields) == 4 else "nil"
    process: int | str
    if process_text == ":nemesis":
        process = NEMESIS
    elif re.fullmatch(r"-?\d+", process_text):
        process = int(process_text)
    else:
        raise HistoryError(
            f"process {process_text!r} is not an integer", path=str(path), line=number
        )
    kind = type_text.removeprefix(":")
    if not type_text.startswith(":") or kind not in _TYPES:
        raise HistoryError(
            f"type {type_text!r} is not :invoke, :ok, :fail or :info", path=str(path), line=number
        )
    if not f_text.startswith(":") or len(f_text) < 2:
        raise HistoryError(f"function {f_text!r} is not a keyword", path=str(path), line=number)
    value: Any = None
    error = None
    if value_text.startswith(":") and kind in ("fail", "info"):
        error = value_text[1:]
    else:
        value = _parse_value(path, number, value_text)
    if kind == "ok" and f_text == ":read" and value is None:
        value = UNKNOWN_VALUE  # as in Jepsen's register models: the value was not learned
    return Event(
        index=index,
        time=index,
        process=process,
        type=kind,
        f=f_text[1:],  # type: ignore[arg-type]
        value=value,
        error=error,
    )


def _parse_value(path: str | Path, number: int, text: str) -> Any:
    if text.startswith("[") and text.endswith("]"):
        return [_parse_atom(path, number, item) for item in text[1:-1].split()]
    return _parse_atom(path, number, text)


def _parse_atom(path: str | Path, number: int, text: str) -> Any:
    if text == "nil":
        return None
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    raise HistoryError(
        f"value {text!r} is not nil, an integer or [from to]", path=str(path), line=number
    )
