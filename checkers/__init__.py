"""quorumlab's checkers: is a recorded history consistent?

Depends on nothing else in the project, so it works on a history file alone.
The public surface is these names; the modules behind them may change::

    from checkers import check, load_history
    report = check(load_history("history.jsonl"))
    report.verdict  # True, False or "unknown"

A model of your own datatype is a :class:`Model` subclass passed as
``check(history, model=MyModel())``.
"""

from checkers.api import Report, check
from checkers.errors import HistoryError
from checkers.formats import load_history
from checkers.formats.jsonl import HistoryWriter
from checkers.models import Model

__all__ = ["HistoryError", "HistoryWriter", "Model", "Report", "check", "load_history"]
