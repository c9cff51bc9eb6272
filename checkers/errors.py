"""Errors for bad input, so callers can turn them into one line and exit 254."""

from __future__ import annotations

from pathlib import Path

from checkers.history import NEMESIS, Event, Process


class HistoryError(ValueError):
    """A history that cannot be used as given; the message names file:line and the problem."""

    def __init__(self, path: str | Path, line: int | None, problem: str) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {problem}")
        self.path = str(path)
        self.line = line
        self.problem = problem


def check_pairing(events: list[Event], lines: list[int], path: str | Path) -> None:
    """Reject what pair_ops would silently skip: a completion with no pending
    invoke, a second invoke by a process whose op is still pending, or a
    completion of another function than the one invoked.

    ``lines[i]`` is the file line of ``events[i]``, for the message.
    """
    pending: dict[Process, tuple[Event, int]] = {}
    for event, line in zip(events, lines, strict=True):
        if event.process == NEMESIS:
            continue
        if event.type == "invoke":
            if event.process in pending:
                _, first = pending[event.process]
                raise HistoryError(
                    path, line,
                    f"process {event.process} invokes again while its op from line "
                    f"{first} is still pending",
                )
            pending[event.process] = (event, line)
            continue
        invoke, _ = pending.pop(event.process, (None, 0))
        if invoke is None:
            raise HistoryError(
                path, line, f"{event.type} of process {event.process} without a pending invoke",
            )
        if invoke.f != event.f:
            raise HistoryError(
                path, line, f"{event.type} of {event.f!r} completes an invoke of {invoke.f!r}",
            )


def read_text(path: str | Path) -> str:
    """The file's text; HistoryError (not a traceback) if it cannot be read as UTF-8."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise HistoryError(path, None, f"not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise HistoryError(path, None, error.strerror or str(error)) from None
