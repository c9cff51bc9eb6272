"""How one run ended: what the runner produces and every output is written from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from checkers.api import Report
from checkers.exits import EXIT_HARNESS_FAILURE, EXIT_INTERRUPTED, exit_code
from checkers.result import Verdict
from harness.run_folder import RunFolder
from harness.run_stats import RunStats
from harness.version import quorumlab_version


@dataclass
class RunOutcome:
    """The verdict (None: not checked), whether the run got to the end, and why not."""

    folder: RunFolder
    run_id: str
    verdict: Verdict | None = None
    incomplete: bool = False
    error: str | None = None
    report: Report | None = None
    phases: dict[str, float] = field(default_factory=dict)
    system_stats: dict[str, Any] | None = None  # the system client's traffic, if it counts it
    stats: RunStats | None = None  # counts, latency, availability (a checked history's)

    @property
    def exit_code(self) -> int:
        if self.incomplete and self.error == "interrupted":
            return EXIT_INTERRUPTED
        if self.error is not None or self.verdict is None:
            return EXIT_HARNESS_FAILURE
        return exit_code(self.verdict)

    def to_dict(self) -> dict[str, Any]:
        """The content of results.json."""
        return {
            "run_id": self.run_id,
            "quorumlab_version": quorumlab_version(),
            "valid": self.verdict,
            "incomplete": self.incomplete,
            "error": self.error,
            "phases": self.phases,
            "system": self.system_stats,
            "statistics": self.stats.to_dict() if self.stats is not None else None,
            "checkers": self.report.to_dict() if self.report is not None else None,
        }
