"""The one writer of a run's results: results.json, then the plots and report.html.

Everything is written from the typed outcome. results.json goes first and
alone decides the verdict on disk: a plot or page that fails to render is
logged, never allowed to lose the verdict.
"""

from __future__ import annotations

import logging

from checkers.history import NEMESIS, Event
from harness.config import RunConfig
from harness.outcome import RunOutcome
from harness.plots import fault_windows, plot_run, run_end
from harness.report import write_report
from nemesis.driver import CHECK_EVENT

log = logging.getLogger("quorumlab")


def write_results(config: RunConfig, outcome: RunOutcome, events: list[Event]) -> None:
    """Write results.json; with any event recorded, also the plots and report.html."""
    outcome.folder.write_json("results.json", outcome.to_dict())
    if not events:  # stopped before the first op: nothing to draw
        return
    try:
        plots = plot_run(events, outcome.folder.path)
        checks = [event.value for event in events
                  if event.process == NEMESIS and event.f == CHECK_EVENT]
        write_report(outcome.folder.path / "report.html", config, outcome, plots,
                     fault_windows(events, run_end(events)), checks)
    except Exception:  # the verdict stands without its pictures
        log.exception("plots or report.html failed")
