"""``history.jsonl``: quorumlab's own history format (DESIGN.md), read and written.

One JSON object per line. Reading validates every field and the invoke/completion
pairing, so that a checker never reasons about a history it misread: a bad line is
a :class:`HistoryError` naming ``file:line`` and what is wrong. The one exception
is a final line that is not JSON and has no newline after it: a crash cut it off
mid-write, so it is left out with a warning and everything before it is checked. Writing is
incremental (one flushed line per event) so a crashed run still leaves its history.
Unknown fields are ignored, so newer writers stay readable.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, get_args, overload

import msgspec
import orjson

from checkers.collector import paused_gc
from checkers.errors import HistoryError
from checkers.history import Event, EventType, History, Op, PairingError, pair_ops

EVENT_TYPES: frozenset[str] = frozenset(get_args(EventType))
_OPTIONAL_STRINGS = ("key", "node", "error")


def sniff(text: str) -> bool:
    """True when the first non-blank line is a JSON object with our event fields."""
    for line in text.splitlines():
        if line.strip():
            try:
                obj = orjson.loads(line)
            except orjson.JSONDecodeError:
                return False
            return isinstance(obj, dict) and {"index", "type", "process"} <= obj.keys()
    return False


def load(path: str | Path) -> History:
    """Read and validate a ``history.jsonl`` file, pairing invokes with completions."""
    with paused_gc():
        return _load(str(path))


_DECODE_LINES = msgspec.json.Decoder(Event).decode_lines


def _load(name: str) -> History:
    try:
        data = Path(name).read_bytes()
    except OSError as exc:
        raise HistoryError(f"cannot read: {exc.strerror or exc}", path=name) from None
    warnings: list[str] = []
    data = _without_torn_line(data, name, warnings)
    try:
        # msgspec decodes and validates every line in C; only when it finds a
        # problem are the lines read one by one, to name the line and the field.
        events = _DECODE_LINES(data)
    except msgspec.MsgspecError:
        events = _decode_line_by_line(data, name)
    lines = _LineNumbers(data)
    previous = -1
    for position, event in enumerate(events):
        if event.index <= previous:
            raise HistoryError(
                f"index {event.index} is not greater than the previous index {previous}",
                path=name, line=lines[position],
            )
        previous = event.index
    return History(events=events, ops=paired_ops(events, lines, name), source=name,
                   warnings=warnings)


def _without_torn_line(data: bytes, name: str, warnings: list[str]) -> bytes:
    """``data`` without a final line that a crash cut off mid-write (with a warning).

    Such a line has no newline after it and is not JSON; a whole last line
    merely missing its newline is kept.
    """
    cut = data.rfind(b"\n") + 1
    last = data[cut:]
    if not last.strip():
        return data
    try:
        orjson.loads(last)
    except orjson.JSONDecodeError:
        number = data.count(b"\n") + 1
        warnings.append(f"{name}:{number}: the final line was torn (cut off while being "
                        "written) and is ignored")
        return data[:cut]
    return data


def _decode_line_by_line(data: bytes, name: str) -> list[Event]:
    """The slow path: each line on its own, so an error names its line and field."""
    events: list[Event] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise HistoryError(f"not valid JSON ({exc})", path=name, line=number) from None
        try:
            events.append(event_from_dict(obj))
        except ValueError as exc:
            raise HistoryError(str(exc), path=name, line=number) from None
    return events


class _LineNumbers(Sequence[int]):
    """The line of each event: counted only if an error needs one (blank lines
    make it differ from the event's position)."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._numbers: list[int] | None = None

    def _all(self) -> list[int]:
        if self._numbers is None:
            self._numbers = [number for number, raw in
                             enumerate(self._data.split(b"\n"), start=1) if raw.strip()]
        return self._numbers

    @overload
    def __getitem__(self, position: int) -> int: ...
    @overload
    def __getitem__(self, position: slice) -> list[int]: ...

    def __getitem__(self, position: int | slice) -> int | list[int]:
        return self._all()[position]

    def __len__(self) -> int:
        return len(self._all())


def event_from_dict(obj: Any, *, index: int | None = None) -> Event:
    """Validate one decoded event; ``ValueError`` says which field is wrong and why.

    ``index`` (when given) overrides the object's own: the writer assigns it.
    Written for speed (each field read once, no helper calls on the good path):
    a million-op history has two million events.
    """
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    get = obj.get
    if index is None:
        index = get("index")
        if type(index) is not int or index < 0:
            raise _bad_int(obj, "index")
    time = get("time")
    if type(time) is not int or time < 0:
        raise _bad_int(obj, "time")
    process = get("process")
    if not ((type(process) is int and process >= 0) or (isinstance(process, str) and process)):
        raise ValueError(f"'process' must be an integer >= 0 or a name, got {process!r}")
    event_type = get("type")
    if event_type not in EVENT_TYPES:
        raise ValueError(f"'type' must be one of invoke, ok, fail, info; got {event_type!r}")
    f = get("f")
    if not isinstance(f, str) or not f:
        raise ValueError(f"'f' must be a non-empty string, got {f!r}")
    key, node, error = get("key"), get("node"), get("error")
    if not (_optional_string(key) and _optional_string(node) and _optional_string(error)):
        name, value = next((n, get(n)) for n in _OPTIONAL_STRINGS
                           if not _optional_string(get(n)))
        raise ValueError(f"'{name}' must be a string or null, got {value!r}")
    version = get("version")
    if version is not None:
        version = _version(version)
    return Event(index, time, process, event_type, f, key, get("value"), version, node, error)


def _bad_int(obj: dict[str, Any], name: str) -> ValueError:
    shown = repr(obj[name]) if name in obj else "missing"
    return ValueError(f"'{name}' must be an integer >= 0, got {shown}")


def _optional_string(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _version(value: Any) -> tuple[int, str]:
    if (
        isinstance(value, list) and len(value) == 2
        and type(value[0]) is int and isinstance(value[1], str)
    ):
        return (value[0], value[1])
    raise ValueError(f"'version' must be [counter, writer] (integer, string), got {value!r}")


def paired_ops(
    events: list[Event], lines: Sequence[int], path: str, *,
    crashed_processes_stop: bool = False,
) -> list[Op]:
    """``pair_ops`` for a loader: an event that does not pair is a HistoryError
    naming its line (``lines[i]`` is event i's, looked up only then)."""
    try:
        return pair_ops(events, strict=True, crashed_processes_stop=crashed_processes_stop)
    except PairingError as error:
        event = events[error.position]
        invoke = None if error.related is None else events[error.related]
        related = None if error.related is None else lines[error.related]
        problem = {
            "orphan": f"{event.type} completion of process {event.process!r} has no open invoke",
            "reinvoked": f"process {event.process!r} invokes again while its invoke at line "
                         f"{related} is still open",
            "crashed": f"process {event.process!r} invokes again after its op ended info at "
                       f"line {related}; in Jepsen a crashed process issues nothing more",
            "mismatch": f"completion {event.f!r} on key {event.key!r} does not match the "
                        f"invoke {invoke and invoke.f!r} on key {invoke and invoke.key!r} "
                        f"at line {related}",
        }[error.kind]
        raise HistoryError(problem, path=path, line=lines[error.position]) from None


def event_to_dict(event: Event) -> dict[str, Any]:
    """The JSON form of an event: fields that are None are left out."""
    out: dict[str, Any] = {
        "index": event.index, "time": event.time, "process": event.process,
        "type": event.type, "f": event.f,
    }
    for name in ("key", "value", "version", "node", "error"):
        value = getattr(event, name)
        if value is not None:
            out[name] = list(value) if name == "version" else value
    return out


class HistoryWriter:
    """Appends events to ``history.jsonl`` while a test runs, one flushed line each.

    The writer assigns consecutive indexes from 0, so the index order is the order
    in which the harness recorded events (the real-time order checkers rely on).
    Not thread-safe: the harness appends from one event loop.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._file = self.path.open("wb")
        self._next_index = 0

    def append(self, event: dict[str, Any]) -> Event:
        """Validate ``event`` (without ``index``), write it, and return it as an Event."""
        try:
            recorded = event_from_dict(event, index=self._next_index)
        except ValueError as exc:
            raise HistoryError(f"cannot record event {event!r}: {exc}") from None
        self._file.write(orjson.dumps(event_to_dict(recorded)) + b"\n")
        self._file.flush()
        self._next_index += 1
        return recorded

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> HistoryWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def dump(history: History, path: str | Path) -> None:
    """Write a whole history as ``history.jsonl`` (indexes kept as they are)."""
    with Path(path).open("wb") as out:
        for event in history.events:
            out.write(orjson.dumps(event_to_dict(event)) + b"\n")
