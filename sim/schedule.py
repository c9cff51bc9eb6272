"""A simulation schedule: everything that decides one simulated run, as a value.

The same schedule (and the same code) gives the same history, byte for byte:
the simulator draws nothing that is not in here, and the randomness it does
use (its own message delays beyond ``delays_ms``, the anti-entropy jitter, the
order replicas are asked in, disk latency) comes from generators seeded with
``seed``. hypothesis draws schedules (``sim.search``) and shrinks them; a
schedule saved as JSON (``schedule.json`` in a run folder) runs again with
``quorumlab sim --replay FILE`` or against a real cluster with
``quorumlab run --schedule FILE``.
"""

from __future__ import annotations

import dataclasses
import random
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from nemesis.faults import TARGET_CHOICES, majority
from nemesis.kinds import KINDS
from replica.protocol import BUGS

FORMAT = "quorumlab-sim-schedule/2"
"""/2: each client's ops draw from a stream of their own, and nodes may have slow
disks; a /1 schedule would run, but not to the history it was saved with."""
DISTRIBUTIONS = ("constant", "uniform", "exponential", "lognormal")
LINK_FAULT = "link"
"""A fault on chosen directed links only: their own delay distribution, loss,
duplication and reordering for a while (the nemesis kinds cover the rest)."""
FAULT_KINDS = (*KINDS, LINK_FAULT)
MODES = ("coordinator", "client")


class ScheduleError(ValueError):
    """A schedule file or value that cannot be run; one line for the user."""


@dataclass(frozen=True)
class LinkModel:
    """How a link carries messages: a delay distribution with mean ``mean_ms``,
    and the probability that a message is lost, delivered twice, or held back
    (reordered behind later ones)."""

    distribution: str = "exponential"
    mean_ms: float = 1.0
    loss: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0


@dataclass(frozen=True)
class ClientOp:
    """One client op: after ``gap_ms`` of think time (from the previous op's
    completion), a read or a write of key ``k<key>``."""

    gap_ms: float
    f: str
    key: int


@dataclass(frozen=True)
class FaultEvent:
    """At ``at_ms``, a fault of ``kind`` for ``duration_ms``.

    A nemesis kind decides its targets (and partition shape, skew) exactly as
    the real nemesis does, from ``random.Random(seed)`` and ``targets`` (one,
    minority, majority, all; None: random). A ``link`` fault applies ``model``
    to the directed links ``links`` (``[src, dst]`` node pairs).
    """

    at_ms: float
    kind: str
    duration_ms: float
    seed: int = 0
    targets: str | None = None
    links: tuple[tuple[str, str], ...] = ()
    model: LinkModel | None = None


@dataclass(frozen=True)
class Schedule:
    """One simulated run: cluster, clients and their ops, faults, network."""

    nodes: int = 3
    n: int | None = None  # replicas per key; all nodes when None
    r: int | None = None  # read quorum; a majority of n when None
    w: int | None = None  # write quorum; a majority of n when None
    mode: str = "coordinator"
    bugs: tuple[str, ...] = ()
    keys: int = 1
    clients: tuple[tuple[ClientOp, ...], ...] = ()
    faults: tuple[FaultEvent, ...] = ()
    network: LinkModel = field(default_factory=LinkModel)
    delays_ms: tuple[float, ...] = ()  # the first messages' delays, in send order
    clock_offsets_ms: tuple[float, ...] = ()  # each node's natural clock offset
    seed: int = 0
    op_timeout_ms: float = 1000.0
    request_timeout_ms: float = 500.0
    anti_entropy_ms: float = 500.0
    disk_ms: float = 1.0  # mean time of one durable commit (an fsync)
    disks_ms: tuple[float, ...] = ()  # each node's own disk_ms (slow disks); none: disk_ms
    group_commit: bool = True

    @property
    def node_ids(self) -> tuple[str, ...]:
        return tuple(f"n{i}" for i in range(1, self.nodes + 1))

    @property
    def replication(self) -> int:
        return self.n if self.n is not None else self.nodes

    @property
    def read_quorum(self) -> int:
        return self.r if self.r is not None else majority(self.replication)

    @property
    def write_quorum(self) -> int:
        return self.w if self.w is not None else majority(self.replication)

    def rng(self, purpose: str) -> random.Random:
        """The generator of one purpose (a node's disk, a link...), seeded from
        ``seed``: separate streams, so that dropping an op or a node while
        shrinking leaves the others' draws as they were."""
        return derived_rng(self.seed, purpose)

    @property
    def op_count(self) -> int:
        return sum(len(ops) for ops in self.clients)

    def validate(self) -> None:
        """ScheduleError (one line) for the first value the simulator cannot run."""
        _check(1 <= self.nodes <= 32, "nodes must be between 1 and 32")
        _check(1 <= self.replication <= self.nodes, "n must be between 1 and nodes")
        _check(1 <= self.read_quorum <= self.replication
               and 1 <= self.write_quorum <= self.replication, "r and w must be in 1..n")
        _check(self.mode in MODES, f"mode must be one of {', '.join(MODES)}")
        unknown = [bug for bug in self.bugs if bug not in BUGS]
        _check(not unknown, f"unknown bug {unknown[:1]}; choose from {', '.join(BUGS)}")
        _check(self.keys >= 1, "keys must be at least 1")
        _check(len(self.clients) >= 1, "at least one client")
        for ops in self.clients:
            for op in ops:
                _check(op.f in ("read", "write"), f"op f must be read or write, not {op.f!r}")
                _check(0 <= op.key < self.keys, f"op key {op.key} outside 0..{self.keys - 1}")
                _check(op.gap_ms >= 0, "op gap_ms must be >= 0")
        nodes = set(self.node_ids)
        for fault in self.faults:
            _check(fault.kind in FAULT_KINDS,
                   f"unknown fault kind {fault.kind!r}; choose from {', '.join(FAULT_KINDS)}")
            _check(fault.at_ms >= 0 and fault.duration_ms >= 0, "fault times must be >= 0")
            _check(fault.targets in (None, *TARGET_CHOICES),
                   f"fault targets must be one of {', '.join(TARGET_CHOICES)}")
            if fault.kind in KINDS:
                _check(self.nodes >= KINDS[fault.kind].min_nodes,
                       f"{fault.kind} needs {KINDS[fault.kind].min_nodes} nodes or more")
            else:
                _check(fault.model is not None, "a link fault needs a model")
                for src, dst in fault.links:
                    _check(src in nodes and dst in nodes, f"unknown link {src}->{dst}")
        for model in [self.network, *(f.model for f in self.faults if f.model)]:
            _check(model.distribution in DISTRIBUTIONS,
                   f"distribution must be one of {', '.join(DISTRIBUTIONS)}")
            _check(model.mean_ms >= 0, "mean_ms must be >= 0")
            _check(all(0 <= p <= 1 for p in (model.loss, model.duplicate, model.reorder)),
                   "loss, duplicate and reorder are probabilities")
        _check(len(self.clock_offsets_ms) in (0, self.nodes),
               "clock_offsets_ms needs one offset per node (or none)")
        _check(len(self.disks_ms) in (0, self.nodes),
               "disks_ms needs one commit time per node (or none)")
        _check(all(d >= 0 for d in (*self.delays_ms, *self.disks_ms)),
               "delays_ms and disks_ms must be >= 0")
        _check(self.op_timeout_ms > 0 and self.request_timeout_ms > 0
               and self.anti_entropy_ms > 0 and self.disk_ms >= 0,
               "timeouts and intervals must be > 0")

    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, **dataclasses.asdict(self)}

    @classmethod
    def from_json(cls, raw: Any) -> Schedule:
        """Parse and validate; ScheduleError with a one-line reason if malformed."""
        found = raw.get("format") if isinstance(raw, dict) else None
        family = FORMAT.rsplit("/", 1)[0] + "/"
        if isinstance(found, str) and found.startswith(family) and found != FORMAT:
            raise ScheduleError(f"schedule format {found!r} is from another version of "
                                f"quorumlab sim (this one runs {FORMAT!r})")
        if found != FORMAT:
            raise ScheduleError(f"not a simulation schedule (expected format {FORMAT!r})")
        data = {k: v for k, v in raw.items() if k != "format"}
        try:
            data["network"] = LinkModel(**data.get("network", {}))
            data["clients"] = tuple(tuple(ClientOp(**op) for op in ops)
                                    for ops in data.get("clients", ()))
            data["faults"] = tuple(_fault(f) for f in data.get("faults", ()))
            for name in ("bugs", "delays_ms", "clock_offsets_ms", "disks_ms"):
                data[name] = tuple(data.get(name, ()))
            schedule = cls(**data)
        except (TypeError, ValueError, AttributeError) as exc:
            raise ScheduleError(f"malformed schedule: {exc}") from None
        schedule.validate()
        return schedule

    def save(self, path: Path) -> None:
        path.write_bytes(orjson.dumps(self.to_json(), option=orjson.OPT_INDENT_2) + b"\n")

    @classmethod
    def load(cls, path: Path) -> Schedule:
        try:
            raw = orjson.loads(path.read_bytes())
        except OSError as exc:
            raise ScheduleError(f"cannot read {path}: {exc.strerror or exc}") from None
        except orjson.JSONDecodeError as exc:
            raise ScheduleError(f"{path}: not JSON ({exc})") from None
        raw = raw.get("schedule", raw) if isinstance(raw, dict) else raw
        return cls.from_json(raw)


def derived_rng(seed: int, purpose: str) -> random.Random:
    """``random.Random`` from ``seed`` and a label, stable across processes (no
    ``hash()``, which Python salts per process) and cheap (an int seed)."""
    return random.Random((seed << 32) | zlib.crc32(purpose.encode()))


def _fault(raw: dict[str, Any]) -> FaultEvent:
    model = raw.get("model")
    return FaultEvent(**{**raw, "links": tuple(tuple(pair) for pair in raw.get("links", ())),
                         "model": LinkModel(**model) if model is not None else None})


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ScheduleError(message)
