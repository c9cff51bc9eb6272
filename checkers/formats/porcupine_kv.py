"""Porcupine's key-value history format: one flat EDN map per line,

    {:process 0, :type :invoke, :f :append, :key "4", :value "x 0 3 y"}

with ``:f`` one of get, put, append and string keys and values. There are no
times, so each event's position is its time. Lines are parsed with one regular
expression per field (the format is flat), which is ~25x faster than a general
EDN reader on the larger files.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from checkers.errors import HistoryError
from checkers.formats.line_format import first_line_matches, load_lines
from checkers.history import Event, History

MODEL = "kv"
_FIELD = re.compile(r'\s*:([a-z-]+)\s+(nil|-?\d+|:[a-z-]+|"(?:[^"\\]|\\.)*")\s*(?:,|$)')
_SHAPE = re.compile(r"^\s*\{:process\s.*:f\s+:(get|put|append)\b.*\}\s*$")
_TYPES = frozenset({"invoke", "ok", "fail", "info"})
_FUNCTIONS = frozenset({"get", "put", "append"})
_REQUIRED = ("process", "type", "f", "key")


def sniff(text: str) -> bool:
    """True when the first non-blank line is a one-line map of a get, put or append."""
    return first_line_matches(text, _SHAPE)


def load(path: str | Path) -> History:
    """Read a Porcupine kv history; HistoryError naming file:line for a malformed line."""
    return load_lines(path, lambda path, number, line, index: _event(
        path, number, _fields(path, number, line), index), crashed_processes_stop=True)


def _fields(path: str | Path, number: int, line: str) -> dict[str, Any]:
    text = line.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise HistoryError("expected one map {...} on the line", path=str(path), line=number)
    fields: dict[str, Any] = {}
    position, end = 1, len(text) - 1
    while position < end:
        match = _FIELD.match(text, position, end)
        if match is None:
            raise HistoryError(
                f"cannot read a ':field value' at {text[position:]!r}", path=str(path), line=number
            )
        name, raw = match.group(1), match.group(2)
        if name in fields:
            raise HistoryError(f"field :{name} appears twice", path=str(path), line=number)
        try:
            fields[name] = _value(raw)
        except ValueError:
            raise HistoryError(f"bad string {raw}", path=str(path), line=number) from None
        position = match.end()
    return fields


def _value(raw: str) -> Any:
    if raw == "nil":
        return None
    if raw.startswith(":"):
        return _Keyword(raw[1:])
    if raw.startswith('"'):
        return json.loads(raw)
    return int(raw)


class _Keyword(str):
    """A keyword as read (``:ok``), kept apart from a string ("ok")."""


def _event(path: str | Path, number: int, fields: dict[str, Any], index: int) -> Event:
    missing = [name for name in _REQUIRED if name not in fields]
    if missing:
        raise HistoryError(f"missing :{', :'.join(missing)}", path=str(path), line=number)
    process, kind, f, key = (fields[name] for name in _REQUIRED)
    if not isinstance(process, int):
        raise HistoryError(f":process {process!r} is not an integer", path=str(path), line=number)
    if not isinstance(kind, _Keyword) or kind not in _TYPES:
        raise HistoryError(
            f":type {kind!r} is not :invoke, :ok, :fail or :info", path=str(path), line=number
        )
    if not isinstance(f, _Keyword) or f not in _FUNCTIONS:
        raise HistoryError(f":f {f!r} is not :get, :put or :append", path=str(path), line=number)
    if not isinstance(key, str) or isinstance(key, _Keyword):
        raise HistoryError(f":key {key!r} is not a string", path=str(path), line=number)
    value = fields.get("value")
    if value is not None and (not isinstance(value, str) or isinstance(value, _Keyword)):
        raise HistoryError(f":value {value!r} is not a string or nil", path=str(path), line=number)
    return Event(
        index=index,
        time=index,
        process=process,
        type=str(kind),  # type: ignore[arg-type]
        f=str(f),
        key=str(key),
        value=value,
    )
