"""Jepsen ``history.edn``: read it, and write any history as one.

Two layouts are read: one EDN vector of op maps (older Jepsen, the samples in
../shared/datasets) and a plain sequence of op maps, one per line (newer
Jepsen). Keywords become plain strings (``:nemesis`` -> "nemesis", ``:read`` ->
"read"); vectors become lists; a non-string ``:error`` is kept as its EDN text.
``:time`` is used when every op has one, otherwise each op's position is its
time; ``:index`` likewise. Jepsen's meanings are kept: an ``:ok :read`` of nil
(the client did not learn the value) reads as ``UNKNOWN_VALUE``, and a process
whose op ended ``:info`` must not invoke again. :func:`dump` writes a vector, one map per line, that
:func:`load` reads back to an identical History.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import edn_format
from edn_format import Keyword

from checkers.errors import HistoryError, read_text
from checkers.formats import porcupine_kv
from checkers.formats.jsonl import paired_ops
from checkers.history import UNKNOWN_VALUE, Event, History

_TYPES = frozenset({"invoke", "ok", "fail", "info"})
_READS = frozenset({Keyword("read"), "read"})
# Tokens that matter for finding where each form starts and ends: strings,
# comments, character literals, brackets, newlines and other atoms.
_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|;[^\n]*|\\.|[\[\]{}()\n]|[^\s,\[\]{}()";]+', re.DOTALL)
_OPEN, _CLOSE = frozenset("[{("), frozenset("]})")
_KEYWORD = re.compile(r"[A-Za-z*+!_?<>=-][\w*+!?<>=.-]*")


def sniff(text: str) -> bool:
    """True when the text starts (after comments) with an EDN vector, list or map
    and is not Porcupine's kv format, which is also one map per line."""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith(";"):
            return stripped[0] in "[({" and not porcupine_kv.sniff(text)
    return False


def load(path: str | Path) -> History:
    """Read a Jepsen EDN history; HistoryError naming file:line when it is malformed."""
    text = read_text(path)
    try:
        forms = edn_format.loads_all(text)
    except Exception as error:  # the reader raises many types on bad input
        raise HistoryError(
            f"not valid EDN: {error}", path=str(path), line=_error_line(text, error)
        ) from None
    if len(forms) == 1 and _is_vector(forms[0]):
        maps, depth = list(forms[0]), 1
    else:
        maps, depth = forms, 0
    lines: list[int | None] = [line for line, _, _ in _forms(text, depth)]
    if len(lines) != len(maps):  # "#_" discards or metadata: lines are then approximate
        lines = [*lines, *[None] * len(maps)][: len(maps)]
    events = [
        _event(path, line, op, position)
        for position, (op, line) in enumerate(zip(maps, lines, strict=True))
    ]
    _check_times(path, maps, lines)
    if all(Keyword("time") in op for op in maps):
        for event, op in zip(events, maps, strict=True):
            event.time = op[Keyword("time")]
    ops = paired_ops(events, [line or 0 for line in lines], str(path),
                     crashed_processes_stop=True)
    return History(events=events, ops=ops, source=str(path))


def dump(history: History, path: str | Path) -> None:
    """Write ``history`` as a Jepsen EDN vector, one op map per line."""
    lines = [_render(event) for event in history.events]
    body = "\n ".join(lines)
    Path(path).write_text(f"[{body}]\n", encoding="utf-8")


def _forms(text: str, depth: int) -> list[tuple[int, int, int]]:
    """(line, start, end) of each form at nesting ``depth``: a cheap scan that
    gives the EDN reader's data their places in the file."""
    forms: list[tuple[int, int, int]] = []
    line, level = 1, 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token == "\n":
            line += 1
        elif token in _CLOSE:
            level -= 1
            if level == depth and forms:
                forms[-1] = (forms[-1][0], forms[-1][1], match.end())
        elif not token.startswith(";"):
            if level == depth and not token.startswith("#"):  # "#" tags the next form
                end = len(text) if token in _OPEN else match.end()
                forms.append((line, match.start(), end))
            if token in _OPEN:
                level += 1
            line += token.count("\n")
    return forms


def _error_line(text: str, error: Exception) -> int | None:
    """The line of an EDN syntax error.

    The reader's lexer sometimes names an offset (``LexToken(TYPE,'x',line,
    offset)`` or ``lexpos N``); otherwise each op form is read on its own and
    the first one that fails is the culprit.
    """
    found = re.search(r"lexpos (\d+)|,(\d+)\)", str(error))
    if found:
        offset = int(found.group(1) or found.group(2))
        return text.count("\n", 0, offset) + 1
    top = _forms(text, 0)
    nested = len(top) == 1 and text[top[0][1]] in "[("
    for line, start, end in _forms(text, 1) if nested else top:
        try:
            edn_format.loads(text[start:end])
        except Exception:  # the reader raises many types on bad input
            return line
    return None


def _is_vector(value: Any) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, str)


def _event(path: str | Path, line: int | None, op: Any, position: int) -> Event:
    if not isinstance(op, Mapping):
        raise HistoryError(
            f"expected an op map, got {edn_format.dumps(op)[:60]}", path=str(path), line=line
        )
    fields = {_name(k): v for k, v in op.items()}
    for name in ("process", "type", "f"):
        if name not in fields:
            raise HistoryError(f"op has no :{name}", path=str(path), line=line)
    process = fields["process"]
    if isinstance(process, Keyword | str):
        process = _name(process)
    elif not isinstance(process, int) or isinstance(process, bool):
        raise HistoryError(
            f":process {process!r} is not an integer or keyword", path=str(path), line=line
        )
    kind = _name(fields["type"])
    if kind not in _TYPES:
        raise HistoryError(
            f":type {kind} is not :invoke, :ok, :fail or :info", path=str(path), line=line
        )
    value = _plain(fields.get("value"))
    if kind == "ok" and value is None and fields["f"] in _READS:
        value = UNKNOWN_VALUE  # Jepsen: the client did not learn what the register held
    index = fields.get("index", position)
    if not isinstance(index, int) or isinstance(index, bool):
        raise HistoryError(f":index {index!r} is not an integer", path=str(path), line=line)
    return Event(
        index=index,
        time=position,
        process=process,
        type=kind,  # type: ignore[arg-type]
        f=_name(fields["f"]),
        key=_plain(fields.get("key")),
        value=value,
        version=_version(path, line, fields.get("version")),
        node=_optional_text(fields.get("node")),
        error=_optional_text(fields.get("error")),
    )


def _check_times(path: str | Path, maps: list[Any], lines: list[int | None]) -> None:
    """Times must be on every op or none, and be integers (nanoseconds)."""
    timed = [Keyword("time") in op for op in maps]
    if any(timed) and not all(timed):
        line = lines[timed.index(False)]
        raise HistoryError("op has no :time although other ops have one", path=str(path), line=line)
    for op, line in zip(maps, lines, strict=True):
        value = op.get(Keyword("time"), 0)
        if not isinstance(value, int) or isinstance(value, bool):
            raise HistoryError(
                f":time {value!r} is not an integer (nanoseconds)", path=str(path), line=line
            )


def _name(value: Any) -> str:
    """A keyword's name, a string as is, anything else as EDN text."""
    if isinstance(value, Keyword):
        return value.name
    return value if isinstance(value, str) else edn_format.dumps(value)


def _plain(value: Any) -> Any:
    """EDN data as plain Python: keywords as names, vectors/lists as lists, maps as dicts."""
    if isinstance(value, Keyword):
        return value.name
    if isinstance(value, str):
        return value
    if _is_vector(value) or isinstance(value, frozenset):
        return [_plain(item) for item in value]
    if isinstance(value, Mapping):
        return {_plain(k): _plain(v) for k, v in value.items()}
    return value


def _optional_text(value: Any) -> str | None:
    return None if value is None else _name(value)


def _version(path: str | Path, line: int | None, value: Any) -> tuple[int, str] | None:
    if value is None:
        return None
    if (
        _is_vector(value)
        and len(value) == 2
        and isinstance(value[0], int)
        and isinstance(value[1], str)
    ):
        return (value[0], value[1])
    raise HistoryError(f":version {value!r} is not [counter writer]", path=str(path), line=line)


def _render(event: Event) -> str:
    fields = [
        f":index {event.index}",
        f":time {event.time}",
        f":process {_symbolic(event.process)}",
        f":type :{event.type}",
        f":f {_symbolic(event.f)}",
    ]
    if event.key is not None:
        fields.append(f":key {_edn(event.key)}")
    fields.append(f":value {_edn(event.value)}")
    if event.version is not None:
        fields.append(f":version {_edn(list(event.version))}")
    if event.node is not None:
        fields.append(f":node {_edn(event.node)}")
    if event.error is not None:
        fields.append(f":error {_edn(event.error)}")
    return "{" + ", ".join(fields) + "}"


def _symbolic(value: Any) -> str:
    """Names as keywords when they can be (Jepsen writes :nemesis, :read), else as data."""
    if isinstance(value, str) and _KEYWORD.fullmatch(value):
        return f":{value}"
    return _edn(value)


def _edn(value: Any) -> str:
    if value is UNKNOWN_VALUE:
        return "nil"
    if isinstance(value, tuple):
        value = list(value)
    return edn_format.dumps(value)
