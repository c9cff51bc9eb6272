"""``quorumlab check PATH...``: check stored histories, alone or many at once.

Each PATH is a history file, a run folder (its ``history.jsonl``), or a folder
of histories (every ``*.jsonl``/``*.edn``/``*.log``/``*.txt`` in it, and every
run folder below it). Exit code: the worst over all histories, where bad input
(254) is worse than invalid (1), which is worse than unknown (2), then valid (0).
"""

from __future__ import annotations

import argparse
import atexit
import gc
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import orjson

from checkers.api import CHECKERS, Report, check
from checkers.cli_parser import STDOUT_CLOSED
from checkers.errors import HistoryError
from checkers.exits import EXIT_BAD_INPUT, exit_code, worst
from checkers.formats import FORMAT_MODELS, FORMAT_MODULES, RUN_HISTORY, detect_format, load_history
from checkers.history import History
from checkers.models import MODELS
from checkers.render import print_report

HISTORY_SUFFIXES = frozenset({".jsonl", ".edn", ".log", ".txt"})


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "check", help="check stored histories",
        description="Check histories: exit 0 valid, 1 invalid, 2 unknown, 254 bad input "
                    "(the worst over all histories).",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="history file, run folder, or folder of histories")
    parser.add_argument("--format", default="auto", choices=["auto", *FORMAT_MODULES],
                        help="history format (default: from the file extension, else the content)")
    parser.add_argument("--model", choices=list(MODELS),
                        help="linearizability model (default: follows from the format/ops)")
    parser.add_argument("--initial", type=_initial_value, metavar="VALUE",
                        help="the register's initial value, as JSON (e.g. 0, null, '\"x\"')")
    parser.add_argument("--checkers", type=_checker_list, metavar="NAMES",
                        help=f"comma-separated, from {','.join(CHECKERS)} "
                        "(default: all that apply)")
    parser.add_argument("--time-limit", type=_positive_seconds, default=10.0, metavar="S",
                        help="seconds per history for the linearizability search (default 10)")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object per history instead of a summary")
    parser.set_defaults(func=run)
    return parser


# Called with each history checked and its report (what `quorumlab check --report` draws).
Checked = Callable[[Path, str, History, Report], None]


def run(args: argparse.Namespace, on_checked: Checked | None = None) -> int:
    """Check every file; as a process's whole job (``args.exit_process``, set by
    the command-line entry points), end the process right after the last one."""
    try:
        files = expand_paths(args.paths)
    except HistoryError as exc:
        _error(str(exc))
        return EXIT_BAD_INPUT
    whole_process = getattr(args, "exit_process", False)
    if whole_process:
        # The cyclic collector would only rescan the millions of objects a
        # large history holds, none of them in a cycle (0.2-0.5 s at 1M ops),
        # while checking leaves almost no cyclic garbage (measured: none for
        # 102 etcd logs, under ten objects per generated history), which the
        # process's end takes back anyway.
        gc.disable()
    codes, last = [], None
    for file in files:
        code, last = _check_one(file, args, on_checked)  # the previous history is freed here
        codes.append(code)
    if whole_process:
        exit_at_once(worst(codes), last)  # the last history: never freed
    return worst(codes)


def exit_at_once(code: int, *held: object) -> NoReturn:
    """End the process with ``code`` without freeing the objects it holds.

    A checked million-op history is millions of objects (events, ops, their
    strings); freeing them one by one costs about a second, for nothing when
    the process ends right after and the system takes its memory back at once.
    So the command ends with ``os._exit`` while still holding them (``held``),
    after doing by hand what a normal exit does and ``os._exit`` skips: the
    atexit handlers run and stdout and stderr are flushed. Nothing else is
    pending then: every report has been written, and the command starts no
    threads or child processes. A closed stdout (``| head``) ends it with 120,
    as a normal exit would.
    """
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        code = STDOUT_CLOSED
    os._exit(code)


def _check_one(file: Path, args: argparse.Namespace,
               on_checked: Checked | None) -> tuple[int, History | None]:
    """(exit code, the history: None when it could not be read or checked)."""
    try:
        name = detect_format(file) if args.format == "auto" else args.format
        history = load_history(file, name)
        for warning in history.warnings:
            sys.stderr.write(f"quorumlab check: warning: {warning}\n")
        report = check(history, checkers=args.checkers,
                       model=args.model or FORMAT_MODELS.get(name),
                       initial=args.initial, time_limit=args.time_limit)
    except HistoryError as exc:
        if args.json:
            _print_json({"path": str(file), "verdict": None, "error": str(exc)})
        _error(str(exc))
        return EXIT_BAD_INPUT, None
    if on_checked is not None:
        on_checked(file, name, history, report)
    if args.json:
        _print_json(report.to_dict())
    else:
        print_report(report)
    return exit_code(report.verdict), history


def expand_paths(paths: list[str]) -> list[Path]:
    """Files to check, in order: files as given, folders expanded (sorted)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise HistoryError("no such file or folder", path=raw)
        if path.is_dir() and not (path / RUN_HISTORY).is_file():
            found = _histories_in(path)
            if not found:
                raise HistoryError("folder holds no histories", path=raw)
            files.extend(found)
        else:
            files.append(path / RUN_HISTORY if path.is_dir() else path)
    return files


def _histories_in(folder: Path) -> list[Path]:
    found = [p for p in sorted(folder.iterdir())
             if p.is_file() and p.suffix in HISTORY_SUFFIXES and not p.name.startswith(".")]
    for root, dirs, names in os.walk(folder):  # run folders below; symlinks (latest) skipped
        dirs.sort()
        if Path(root) != folder and RUN_HISTORY in names:
            found.append(Path(root) / RUN_HISTORY)
    return found


def _print_json(obj: dict[str, Any]) -> None:
    sys.stdout.buffer.write(orjson.dumps(obj, default=str, option=orjson.OPT_NON_STR_KEYS) + b"\n")
    sys.stdout.flush()


def _error(message: str) -> None:
    sys.stderr.write(f"quorumlab check: error: {message}\n")


def _initial_value(text: str) -> Any:
    """JSON when it parses (0, null, "x", [1,2]); otherwise the text itself."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def _checker_list(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in CHECKERS]
    if unknown or not names:
        problem = f"unknown checker {unknown[0]!r}" if unknown else "no checker named"
        raise argparse.ArgumentTypeError(f"{problem}; expected some of {','.join(CHECKERS)}")
    return names


def _positive_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not seconds > 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text}")
    return seconds
