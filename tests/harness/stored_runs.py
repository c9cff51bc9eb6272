"""Run folders made from the stored histories in tests/harness/histories/, through the
harness's own writer (results.json, plots, report.html), as a finished run leaves them."""

from __future__ import annotations

from pathlib import Path

from checkers.api import check
from checkers.formats import load_history
from checkers.history import History
from harness.config import RunConfig
from harness.outcome import RunOutcome
from harness.results import write_results
from harness.run_folder import create_run_folder
from harness.run_stats import run_stats

HISTORIES = Path(__file__).parent / "histories"


def stored(name: str) -> History:
    return load_history(HISTORIES / name)


def make_run(store: Path, history_name: str, name: str, seed: int = 7) -> Path:
    """A finished run of ``name`` whose history is the stored one; its folder."""
    config = RunConfig(name=name, seed=seed, store_dir=str(store),
                       nemesis=["partition-halves", "kill"])
    folder = create_run_folder(store, name)
    (folder.path / "history.jsonl").write_bytes((HISTORIES / history_name).read_bytes())
    folder.write_json("config.json", {"config": config.to_dict(), "backend": "local",
                                      "run_id": "ql-test"})
    history = load_history(folder.history)
    report = check(history)
    outcome = RunOutcome(folder=folder, run_id="ql-test", verdict=report.verdict,
                         report=report, phases={"workload": 1.0, "check": 0.1},
                         stats=run_stats(history))
    write_results(config, outcome, history.events)
    return folder.path
