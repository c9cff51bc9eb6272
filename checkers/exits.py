"""Exit codes of ``quorumlab run`` and ``quorumlab check``, and which is worst.

One place, because a command that checks several histories (or runs, then
checks) must report the worst outcome, and every command must agree on what
the numbers mean (DESIGN.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from checkers.result import Verdict

EXIT_VALID = 0
EXIT_INVALID = 1
EXIT_UNKNOWN = 2
EXIT_INTERRUPTED = 130  # Ctrl-C or SIGTERM: 128 + SIGINT, as shells report it
EXIT_BAD_INPUT = 254  # bad arguments or a history that cannot be read
EXIT_HARNESS_FAILURE = 255  # the harness itself failed: no verdict

# From best to worst. Unknown is better than invalid (it accuses nobody), bad
# input worse than any verdict (there is none), and an interruption the worst:
# whatever else happened, the user stopped it.
SEVERITY: tuple[int, ...] = (
    EXIT_VALID, EXIT_UNKNOWN, EXIT_INVALID, EXIT_BAD_INPUT, EXIT_HARNESS_FAILURE, EXIT_INTERRUPTED,
)


def exit_code(verdict: Verdict) -> int:
    """The exit code for a verdict: 0 valid, 1 invalid, 2 unknown."""
    if verdict is True:
        return EXIT_VALID
    if verdict is False:
        return EXIT_INVALID
    return EXIT_UNKNOWN


def worst(codes: Iterable[int]) -> int:
    """The most severe of ``codes`` (EXIT_VALID when there are none)."""
    return max(codes, key=SEVERITY.index, default=EXIT_VALID)
