"""`quorumlab matrix`: how often each bug is caught, measured, not assumed.

Rows run one after another: on a small machine, runs side by side change
each other's timing and so what they find. Exit codes: 0 every row as
expected (each bug caught at least once, the correct replica never accused),
1 otherwise, 254 bad arguments, 255 a run gave no verdict, 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from checkers.exits import EXIT_BAD_INPUT, EXIT_HARNESS_FAILURE, EXIT_INTERRUPTED
from harness.config import ConfigError, RunConfig
from harness.matrix import DEFAULT_ROWS, ROWS_BY_NAME, Row, RowSummary, markdown_table, measure_run
from harness.run_folder import create_run_folder

EPILOG = f"""\
rows (--bugs): {', '.join(ROWS_BY_NAME)}
(the garage-* rows run only when named, with --backend docker and the garage
binary built: quorumlab image build --system garage)
exit codes: 0 every row as expected, 1 a bug never caught or the correct replica
accused, 254 bad arguments, 255 a run gave no verdict, 130 interrupted.
Writes histories/<name>/<UTC timestamp>/ with matrix.md, matrix.json and runs/.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "matrix", help="run each bug switch (and the correct replica) K times; detection rates",
        description="Run one row per configuration K times, one run after another, and "
                    "report per row how often the checkers caught an anomaly, which ones, "
                    "how soon, and how many ops completed during faults.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=5, help="runs per row (default %(default)s)")
    p.add_argument("--time-limit", type=float, default=20.0,
                   help="seconds of workload per run (default %(default)s)")
    p.add_argument("--backend", choices=["local", "docker"], default="local",
                   help="where nodes run (default %(default)s)")
    p.add_argument("--bugs", metavar="ROWS",
                   help="comma list of rows to run (default: all; see below)")
    p.add_argument("--nemesis", metavar="KINDS",
                   help="run every row under this nemesis instead of its own")
    p.add_argument("--nemesis-interval", type=float, default=None, metavar="S",
                   help="mean seconds a fault lasts, in every row (default: run's default)")
    p.add_argument("--seed", type=int, default=None,
                   help="first seed (default random); run j of row i gets seed + 1000 i + j")
    p.add_argument("--name", default="matrix", help="test name (default %(default)s)")
    p.add_argument("--store-dir", default="histories",
                   help="where the matrix folder goes (default %(default)s)")
    p.set_defaults(func=matrix_command)


def selected_rows(bugs: str | None, nemesis: str | None) -> list[Row]:
    """The rows asked for, in the default order; ValueError names an unknown one."""
    rows = list(DEFAULT_ROWS)
    if bugs is not None:
        wanted = [name.strip() for name in bugs.split(",") if name.strip()]
        unknown = [name for name in wanted if name not in ROWS_BY_NAME]
        if unknown or not wanted:
            raise ValueError(f"--bugs: unknown row(s) {', '.join(unknown) or '(none given)'}; "
                             f"choose from {', '.join(ROWS_BY_NAME)}")
        rows = [row for row in ROWS_BY_NAME.values() if row.name in wanted]
    if nemesis is not None:
        rows = [replace(row, nemesis=nemesis) for row in rows]
    return rows


def row_config(row: Row, args: argparse.Namespace, seed: int, store: Path) -> RunConfig:
    from nemesis.kinds import parse_nemesis

    defaults = RunConfig()
    config = RunConfig(
        name=row.slug, backend=args.backend, mode=row.mode, time_limit=args.time_limit,
        nemesis=parse_nemesis(row.nemesis, defaults.nodes), seed=seed,
        replica_bugs=list(row.bugs), store_dir=str(store), **row.options)
    if args.nemesis_interval is not None:
        config = replace(config, nemesis_interval=args.nemesis_interval)
    config.validate()
    return config


def matrix_command(args: argparse.Namespace) -> int:
    try:
        if args.runs < 1:
            raise ValueError("--runs must be at least 1")
        if args.time_limit <= 0:
            raise ValueError("--time-limit must be > 0 seconds")
        rows = selected_rows(args.bugs, args.nemesis)
        first_seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(3), "big")
        folder = create_run_folder(Path(args.store_dir), args.name)
        configs = [[row_config(row, args, first_seed + 1000 * i + j, folder.path / "runs")
                    for j in range(args.runs)] for i, row in enumerate(rows)]
    except (ConfigError, ValueError) as exc:
        sys.stderr.write(f"quorumlab matrix: error: {exc}\n")
        return EXIT_BAD_INPUT
    from harness.run_command import choose_backend, run_one

    backend = choose_backend(configs[0][0])
    if backend is None:
        sys.stderr.write("quorumlab matrix: error: no Docker daemon answers\n")
        return EXIT_HARNESS_FAILURE
    console = Console(stderr=True, highlight=False)
    summaries: list[RowSummary] = []
    interrupted = False
    for row, row_configs in zip(rows, configs, strict=True):
        measures = []
        for j, config in enumerate(row_configs):
            outcome = run_one(config, backend, console, lines=False,
                              label=f"{row.name} run {j + 1}/{len(row_configs)} "
                                    f"(row {rows.index(row) + 1}/{len(rows)})")
            if outcome.exit_code == EXIT_INTERRUPTED:
                interrupted = True
                break
            measure = measure_run(outcome.folder.path, config.seed, config.time_limit)
            measures.append(measure)
            console.print(f"{row.name} run {j + 1}/{len(row_configs)} seed {config.seed}: "
                          f"{_verdict_word(measure.verdict)}"
                          + (f" ({', '.join(sorted(measure.kinds))})" if measure.kinds else ""))
        if measures:
            summaries.append(RowSummary(row, tuple(measures)))
        if interrupted:
            break
    table = markdown_table(summaries)
    (folder.path / "matrix.md").write_text(
        f"# quorumlab matrix\n\n{args.runs} runs of {args.time_limit:g} s per row, "
        f"{backend} backend, first seed {first_seed}"
        + (f", nemesis interval {args.nemesis_interval:g} s" if args.nemesis_interval else "")
        + f"\n\n{table}\n")
    folder.write_json("matrix.json", {
        "runs_per_row": args.runs, "time_limit": args.time_limit, "backend": backend,
        "first_seed": first_seed,
        "nemesis_interval": args.nemesis_interval, "interrupted": interrupted,
        "rows": [summary.to_dict() for summary in summaries]})
    print(table)
    print(f"\n{folder.path}")
    if interrupted:
        return EXIT_INTERRUPTED
    if any(summary.failed for summary in summaries):
        return EXIT_HARNESS_FAILURE
    return 0 if all(summary.as_expected for summary in summaries) else 1


def _verdict_word(verdict: bool | str | None) -> str:
    return {True: "valid", False: "INVALID", None: "NO VERDICT"}.get(verdict, str(verdict))

