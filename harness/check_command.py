"""`quorumlab check`: the checkers' own command, plus ``--report PATH``.

``python -m checkers check`` stays free of the harness (DESIGN.md: checkers
depend on nothing else here); the harness adds the page, which needs its
plots, fault log and timelines. The report is written after the verdict is
printed, so a page that cannot be written never hides the verdict.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

from checkers import cli as checkers_cli
from checkers.api import Report
from checkers.errors import HistoryError
from checkers.exits import EXIT_BAD_INPUT
from checkers.history import History
from harness.report import ReportPage, write_report
from harness.version import quorumlab_version


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = checkers_cli.add_parser(subparsers)
    parser.add_argument("--report", type=Path, metavar="PATH",
                        help="also write a self-contained report.html for the history "
                             "(one history only)")
    parser.set_defaults(func=check_command)


def check_command(args: argparse.Namespace) -> int:
    if args.report is None:
        return checkers_cli.run(args)
    try:
        files = checkers_cli.expand_paths(args.paths)
    except HistoryError:
        return checkers_cli.run(args)  # it says what is wrong with the paths, as always
    if len(files) != 1:
        sys.stderr.write(f"quorumlab check: error: --report needs exactly one history; "
                         f"{len(files)} were given\n")
        return EXIT_BAD_INPUT
    checked: list[tuple[Path, str, History, Report]] = []
    args.exit_process = False  # the page is written after the check: the process goes on
    code = checkers_cli.run(args, on_checked=lambda *found: checked.append(found))
    if not checked:  # bad input: already said why
        return code
    try:
        page = check_page(*checked[0])
        page.replay = recheck_command(checked[0][0], args)
        write_report(args.report, page)
    except OSError as exc:
        sys.stderr.write(f"quorumlab check: error: cannot write {args.report}: "
                         f"{exc.strerror or exc}\n")
        return EXIT_BAD_INPUT
    sys.stderr.write(f"report: {args.report}\n")
    return code


def check_page(file: Path, format_name: str, history: History, report: Report) -> ReportPage:
    """The page for an imported (or re-checked) history: what was checked, and how."""
    from harness.plots import plot_run  # matplotlib only when a page is asked for

    # Formats without timestamps number events by position (checkers.formats.edn).
    seconds = not all(event.time == position for position, event in enumerate(history.events))
    options = report.options
    facts = [("history", str(file)), ("format", format_name),
             ("model", str(options.get("model"))),
             ("checkers", ", ".join(options.get("checkers", []))),
             ("search time limit", f"{options.get('time_limit')} s"),
             ("quorumlab", quorumlab_version())]
    config = _run_config(file)
    with tempfile.TemporaryDirectory() as scratch:
        plots = plot_run(history.events, Path(scratch)) if seconds else []
        images = [(plot.stem, plot.read_bytes()) for plot in plots]
    return ReportPage(
        title=file.parent.name if file.name == "history.jsonl" else file.name,
        history=history, report=report, verdict=report.verdict, facts=facts,
        config=config, seconds=seconds, plots=images, replay_label="Check again")


def recheck_command(file: Path, args: argparse.Namespace) -> str:
    """The command that checks this history again and writes this page."""
    words = ["quorumlab", "check", str(file)]
    if args.format != "auto":
        words += ["--format", args.format]
    if args.model:
        words += ["--model", args.model]
    if args.initial is not None:
        words += ["--initial", orjson.dumps(args.initial).decode()]
    if args.checkers:
        words += ["--checkers", ",".join(args.checkers)]
    return shlex.join([*words, "--time-limit", f"{args.time_limit:g}", "--report",
                       str(args.report)])


def _run_config(file: Path) -> dict[str, Any] | None:
    """A run folder's config, when the history is one (a crashed run re-checked)."""
    try:
        return orjson.loads((file.parent / "config.json").read_bytes()).get("config")
    except (OSError, orjson.JSONDecodeError, AttributeError):
        return None
