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

from pathlib import Path
from typing import Any, get_args

import orjson

from checkers.errors import HistoryError
from checkers.gcpause import paused_gc
from checkers.history import FINAL, NEMESIS, QUIESCE, Event, EventType, History, Process, pair_ops

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


def _load(name: str) -> History:
    try:
        data = Path(name).read_bytes()
    except OSError as exc:
        raise HistoryError(f"cannot read: {exc.strerror or exc}", path=name) from None
    events: list[Event] = []
    lines: list[int] = []
    warnings: list[str] = []
    previous = -1
    chunks = data.split(b"\n")
    last = len(chunks)  # the line after the final newline; empty unless it was cut off
    for number, raw in enumerate(chunks, start=1):
        if not raw.strip():
            continue
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            if number == last:
                warnings.append(f"{name}:{number}: the final line was torn (cut off while "
                                "being written) and is ignored")
                break
            raise HistoryError(f"not valid JSON ({exc})", path=name, line=number) from None
        try:
            event = event_from_dict(obj)
        except ValueError as exc:
            raise HistoryError(str(exc), path=name, line=number) from None
        if event.index <= previous:
            raise HistoryError(
                f"index {event.index} is not greater than the previous index {previous}",
                path=name, line=number,
            )
        previous = event.index
        events.append(event)
        lines.append(number)
    check_pairing(events, lines, name)
    return History(events=events, ops=pair_ops(events), source=name, warnings=warnings)


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


def check_pairing(
    events: list[Event], lines: list[int], path: str, *, crashed_processes_stop: bool = False
) -> None:
    """Reject completions without an open invoke, overlapping invokes and mismatches.

    ``pair_ops`` silently skips such events; a loader must not, because an orphan
    completion means the file was cut or mixed up and any verdict would be wrong.
    ``crashed_processes_stop`` (Jepsen's formats): a process whose op ended
    ``info`` may still have it in flight, so Jepsen gives the thread a new
    process id; the same id invoking again means the file is not what it claims.
    quorumlab's own final phase reuses its one process id, so jsonl allows it.
    """
    open_invokes: dict[Process, tuple[Event, int]] = {}
    crashed: dict[Process, int] = {}
    for event, line in zip(events, lines, strict=True):
        pending = open_invokes.get(event.process)
        if event.process == NEMESIS or (event.process == FINAL and pending is None
                                        and event.f == QUIESCE and event.type == "info"):
            continue  # faults, and the final phase's convergence report, stand alone
        if event.type == "invoke":
            if event.process in crashed:
                raise HistoryError(
                    f"process {event.process!r} invokes again after its op ended info at "
                    f"line {crashed[event.process]}; in Jepsen a crashed process issues "
                    "nothing more",
                    path=path, line=line,
                )
            if pending is not None:
                raise HistoryError(
                    f"process {event.process!r} invokes again while its invoke at line "
                    f"{pending[1]} is still open",
                    path=path, line=line,
                )
            open_invokes[event.process] = (event, line)
            continue
        if pending is None:
            raise HistoryError(
                f"{event.type} completion of process {event.process!r} has no open invoke",
                path=path, line=line,
            )
        invoke, invoke_line = pending
        if (invoke.f, invoke.key) != (event.f, event.key):
            raise HistoryError(
                f"completion {event.f!r} on key {event.key!r} does not match the invoke "
                f"{invoke.f!r} on key {invoke.key!r} at line {invoke_line}",
                path=path, line=line,
            )
        del open_invokes[event.process]
        if crashed_processes_stop and event.type == "info":
            crashed[event.process] = line


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
