"""One call to check a history with every applicable checker: ``check(history)``.

The harness calls this after a test; ``quorumlab check`` calls it per file.
Which checkers apply follows from the history unless the caller names them: the
graph checker needs the store's versions and durability needs a final phase;
stats and linearizability always apply. ``read-after-write`` is for a store
that claims only that (an S3 store such as Garage): only when named.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from checkers.durability import check_durability, has_final_phase
from checkers.errors import HistoryError
from checkers.graph import check_graph, has_versions
from checkers.history import History
from checkers.linearizability import check_linearizability
from checkers.models import MODELS, Model, get_model
from checkers.read_after_write import check_read_after_write
from checkers.result import CheckResult, Verdict, combine
from checkers.stats import check_stats

CHECKERS = ("graph", "linearizability", "read-after-write", "durability", "stats")


@dataclass
class Report:
    """Every checker's result for one history, and their conjunction."""

    results: list[CheckResult]
    source: str = "<memory>"
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def verdict(self) -> Verdict:
        return combine([result.valid for result in self.results])

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form (orjson with OPT_NON_STR_KEYS for keys that are not strings)."""
        return {
            "path": self.source,
            "verdict": self.verdict,
            "options": self.options,
            "results": [
                {
                    "checker": r.checker,
                    "valid": r.valid,
                    "anomalies": [
                        {"kind": a.kind, "key": a.key, "explanation": a.explanation,
                         "ops": a.ops, **a.details}
                        for a in r.anomalies
                    ],
                    "details": r.details,
                }
                for r in self.results
            ],
        }


def check(
    history: History,
    *,
    checkers: list[str] | None = None,
    model: str | Model | None = None,
    initial: Any = None,
    time_limit: float = 10.0,
) -> Report:
    """Run ``checkers`` (default: all that apply) on ``history``.

    ``model`` only matters to linearizability: a :class:`Model` of your own,
    or a built-in one by name (register, cas-register, kv) starting at
    ``initial`` (the register's value before any write); by default it follows
    from the ops. Raises HistoryError for an unknown checker or model, or for
    ops the model cannot interpret.
    """
    names = default_checkers(history) if checkers is None else list(checkers)
    unknown = [name for name in names if name not in CHECKERS]
    if unknown:
        raise HistoryError(
            f"unknown checker {unknown[0]!r}; expected some of {', '.join(CHECKERS)}"
        )
    model = model or infer_model(history)
    if isinstance(model, str):
        if model not in MODELS:
            raise HistoryError(f"unknown model {model!r}; expected one of {', '.join(MODELS)}")
        model = get_model(model, initial)
    runners: dict[str, Callable[[], CheckResult]] = {
        "graph": lambda: check_graph(history),
        "durability": lambda: check_durability(history),
        "stats": lambda: check_stats(history),
        "read-after-write": lambda: check_read_after_write(history),
        "linearizability": lambda: check_linearizability(
            history, model=model, time_limit=time_limit),
    }
    results = [runners[name]() for name in CHECKERS if name in names]
    options = {"checkers": [r.checker for r in results], "model": model.name,
               "initial": initial, "time_limit": time_limit}
    return Report(results=results, source=history.source, options=options)


def default_checkers(history: History) -> list[str]:
    """The checkers that can say something about this history."""
    names = ["stats", "linearizability"]
    if has_versions(history):
        names.append("graph")
    if has_final_phase(history):
        names.append("durability")
    return names


def infer_model(history: History) -> str:
    """cas-register if any op is a cas, kv for get/put/append, else a read/write register."""
    functions = set(map(attrgetter("f"), history.ops))
    if "cas" in functions:
        return "cas-register"
    if functions & {"get", "put", "append"}:
        return "kv"
    return "register"
