"""The fault kinds the nemesis knows, and parsing of the ``--nemesis`` flag."""

from __future__ import annotations

PROCESS_KINDS = ("kill", "pause")
PARTITION_KINDS = (
    "partition-halves",
    "partition-isolate",
    "partition-ring",
    "partition-bridge",
    "partition-random",
)
# Network delay with jitter on every inter-node link; clock skew of some nodes.
LINK_KINDS = ("delay",)
CLOCK_KINDS = ("clock-skew",)
KINDS = PROCESS_KINDS + PARTITION_KINDS + LINK_KINDS + CLOCK_KINDS

# Smallest cluster on which a kind means something (a 2-node "halves" cut leaves
# one side empty; a majorities ring needs 4 nodes to be more than a full mesh).
MIN_NODES = {
    "kill": 1,
    "pause": 1,
    "partition-halves": 3,
    "partition-isolate": 2,
    "partition-ring": 4,
    "partition-bridge": 3,
    "partition-random": 2,
    "delay": 2,
    "clock-skew": 1,
}

TARGET_CHOICES = ("one", "minority", "majority", "all")


def parse_nemesis(value: str, n_nodes: int | None = None) -> list[str]:
    """``"kill,partition-ring" | "all" | "none"`` -> list of kinds, in the order given.

    With ``n_nodes``, ``all`` keeps only the kinds that fit the cluster and an
    explicit kind that does not fit is an error. Raises ValueError with a
    one-line message.
    """
    text = value.strip()
    if text in ("", "none"):
        return []
    if text == "all":
        return [k for k in KINDS if n_nodes is None or n_nodes >= MIN_NODES[k]]
    kinds: list[str] = []
    for raw in text.split(","):
        name = raw.strip()
        if name not in KINDS:
            raise ValueError(
                f"unknown nemesis {name!r}; choose from {', '.join(KINDS)}, or all, none"
            )
        if n_nodes is not None and n_nodes < MIN_NODES[name]:
            raise ValueError(f"--nemesis {name} needs --nodes {MIN_NODES[name]} or more "
                             f"(got --nodes {n_nodes})")
        if name not in kinds:
            kinds.append(name)
    return kinds


def parse_target_choice(value: str | None) -> str | None:
    """Validate a kill/pause target restriction (None: random each time)."""
    if value is None or value in TARGET_CHOICES:
        return value
    raise ValueError(f"unknown target choice {value!r}; choose from {', '.join(TARGET_CHOICES)}")
