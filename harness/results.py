"""The one writer of a run's results: results.json, then the plots and report.html.

Everything is written from the typed outcome. results.json goes first and
alone decides the verdict on disk: a plot or page that fails to render is
logged, never allowed to lose the verdict.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import orjson

from checkers.history import Event, History, pair_ops
from harness.config import RunConfig
from harness.outcome import RunOutcome
from harness.plots import plot_run
from harness.report import ReportPage, write_report
from harness.version import quorumlab_version

log = logging.getLogger("quorumlab")

RUN_FILES = ("history.jsonl", "results.json", "config.json", "harness.log",
             "schedule.json", "story.txt")
SIM_BACKEND = "sim"  # `quorumlab sim`: virtual time, its ops and faults from schedule.json


def write_results(config: RunConfig, outcome: RunOutcome, events: list[Event]) -> None:
    """Write results.json; with any event recorded, also the plots and report.html."""
    outcome.folder.write_json("results.json", outcome.to_dict())
    if not events:  # stopped before the first op: nothing to draw
        return
    try:
        plots = plot_run(events, outcome.folder.path)
        history = History(events=events, ops=pair_ops(events),
                          source=str(outcome.folder.history))
        write_report(outcome.folder.path / "report.html",
                     run_page(config, outcome, history, plots))
    except Exception:  # the verdict stands without its pictures
        log.exception("plots or report.html failed")


def run_page(config: RunConfig, outcome: RunOutcome, history: History,
             plots: list[Path]) -> ReportPage:
    """What report.html shows for a run: its plan, how to replay it, what it found."""
    folder = outcome.folder.path
    backend = _recorded_backend(folder) or config.backend
    files = [name for name in RUN_FILES if (folder / name).exists()]
    files += sorted(f"nodes/{log.name}" for log in (folder / "nodes").glob("*.log"))
    return ReportPage(
        title=config.name, history=history, report=outcome.report, verdict=outcome.verdict,
        facts=run_facts(config, outcome, backend),
        replay=(f"quorumlab sim --replay {folder / 'schedule.json'}" if backend == SIM_BACKEND
                else f"quorumlab run --replay {folder} --backend {backend}"),
        note=str(outcome.error) if outcome.incomplete or outcome.error else None,
        plots=[(plot.stem, plot.read_bytes()) for plot in plots], files=files,
        config=config.to_dict(), phases=outcome.phases,
        extra={"System statistics": outcome.system_stats} if outcome.system_stats else {},
        stats=outcome.stats)


def run_facts(config: RunConfig, outcome: RunOutcome, backend: str) -> list[tuple[str, str]]:
    """The header's table: enough to tell runs apart at a glance."""
    options = " ".join(f"{k}={v}" for k, v in sorted(config.system_opts.items()))
    quorum = f"n={config.replication} r={config.r} w={config.w}"
    if backend == SIM_BACKEND:  # the schedule decides ops and fault times, not ratios
        workload = (f"{config.concurrency} clients, {config.keys} keys, the ops of "
                    f"schedule.json, {config.time_limit:g} s of virtual time, op timeout "
                    f"{config.op_timeout:g} s")
        nemesis = (", ".join(config.nemesis) + " at the times of schedule.json"
                   if config.nemesis else "none")
    else:
        workload = (f"{config.concurrency} workers, {config.keys} keys, read ratio "
                    f"{config.read_ratio:g}, cas ratio {config.cas_ratio:g}, "
                    f"cross reads {config.cross_read_ratio:g}, "
                    f"rate {'unbounded' if not config.rate else f'{config.rate:g}/s'}, "
                    f"{config.time_limit:g} s, op timeout {config.op_timeout:g} s")
        nemesis = (", ".join(config.nemesis) + f" every {config.nemesis_interval:g} s"
                   + (f", targets {config.nemesis_targets}" if config.nemesis_targets
                      else "") if config.nemesis else "none")
    return [
        ("system", f"{config.system} {options}".strip()),
        ("backend", backend),
        ("cluster", f"{config.nodes} nodes, {quorum}, {config.mode} mode"
                    + (f", bugs: {', '.join(config.replica_bugs)}" if config.replica_bugs
                       else "")),
        ("workload", workload),
        ("nemesis", nemesis),
        ("seed", str(config.seed)),
        ("run", f"{outcome.run_id} in {outcome.folder.path}"),
        ("quorumlab", quorumlab_version()),
    ]


def _recorded_backend(folder: Path) -> str | None:
    """The backend the run used (config.json records it; --backend auto chose it)."""
    try:
        recorded: Any = orjson.loads((folder / "config.json").read_bytes()).get("backend")
    except (OSError, orjson.JSONDecodeError, AttributeError):
        return None
    return recorded if isinstance(recorded, str) else None
