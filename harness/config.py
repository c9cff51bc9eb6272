"""Run configuration: every option of `quorumlab run`, validated in one place.

The config is written to the run folder as config.json; it holds everything
needed to rerun the same plan (the seed included).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from harness.backends.node_commands import TEMPLATE_FIELDS
from harness.systems import DEFAULT_SYSTEM, System, system_class
from nemesis.capabilities import ClockControl
from nemesis.faults import TARGET_CHOICES
from nemesis.kinds import KINDS, check_kind
from replica.protocol import BUGS as REPLICA_BUGS

MODES = ("coordinator", "client")
BACKENDS = ("auto", "local", "docker")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class ConfigError(ValueError):
    """A bad option value; the message is one line for the user."""


@dataclass
class RunConfig:
    """Everything that defines one test plan."""

    name: str = "quorumlab"
    system: str = DEFAULT_SYSTEM
    system_opts: dict[str, str] = field(default_factory=dict)
    backend: str = "auto"
    nodes: int = 5
    n: int | None = None  # replicas per key; defaults to nodes
    r: int = 3
    w: int = 3
    mode: str = "coordinator"
    concurrency: int = 10
    keys: int = 3  # few, hot keys: many ops race on each (see BENCHMARKS.md, matrix)
    rate: float = 0.0  # ops/s over all workers; 0 = unbounded
    read_ratio: float = 0.5
    cas_ratio: float = 0.0
    cross_read_ratio: float = 0.5  # ok ops followed by a read elsewhere (harness/workload.py)
    time_limit: float = 30.0
    op_timeout: float = 1.0
    nemesis: list[str] = field(default_factory=list)
    nemesis_interval: float = 2.0  # a 20 s run sees the whole default deck (BENCHMARKS.md)
    nemesis_targets: str | None = None  # one|minority|majority|all; None = random
    seed: int = 0
    replica_bugs: list[str] = field(default_factory=list)
    replica_cmd: str | None = None
    replica_image: str | None = None  # a user's replica image (docker backend)
    allow_weak_quorum: bool = False
    anti_entropy_interval: float = 0.5
    quiesce_timeout: float = 30.0
    test_count: int = 1
    store_dir: str = "histories"

    @property
    def replication(self) -> int:
        return self.n if self.n is not None else self.nodes

    @property
    def node_ids(self) -> tuple[str, ...]:
        return tuple(f"n{i}" for i in range(1, self.nodes + 1))

    def make_system(self) -> System:
        """The system under test with its options; ValueError (one line) if bad."""
        return system_class(self.system)(self.system_opts)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown config field(s): {', '.join(unknown)}")
        config = cls(**data)
        config.validate()
        return config

    def validate(self) -> None:
        """Raise ConfigError with a one-line message for the first bad value."""
        _check(NAME_PATTERN.match(self.name) is not None,
               f"--name {self.name!r}: use letters, digits, '.', '_' or '-' (max 64)")
        _check(self.backend in BACKENDS, f"--backend must be one of {', '.join(BACKENDS)}")
        _check(self.mode in MODES, f"--mode must be one of {', '.join(MODES)}")
        _check(1 <= self.nodes <= 32, "--nodes must be between 1 and 32")
        if self.system == DEFAULT_SYSTEM:  # quorums are the replica API's; others have theirs
            self._validate_quorums()
        _check(self.concurrency >= 1, "--concurrency must be at least 1")
        _check(1 <= self.keys <= 100_000, "--keys must be between 1 and 100000")
        _check(self.rate >= 0, "--rate must be >= 0 (0 = unbounded)")
        _check(0.0 <= self.read_ratio <= 1.0, "--read-ratio must be between 0 and 1")
        _check(0.0 <= self.cross_read_ratio <= 1.0,
               "--cross-read-ratio must be between 0 and 1")
        _check(0.0 <= self.cas_ratio <= 1.0 - self.read_ratio,
               "--cas-ratio must be between 0 and 1 - --read-ratio")
        _check(self.time_limit > 0, "--time-limit must be > 0 seconds")
        _check(self.op_timeout > 0, "--op-timeout must be > 0 seconds")
        _check(self.nemesis_interval > 0, "--nemesis-interval must be > 0 seconds")
        _check(self.nemesis_targets in (None, *TARGET_CHOICES),
               f"--nemesis-targets must be one of {', '.join(TARGET_CHOICES)}")
        for kind in self.nemesis:
            try:
                check_kind(kind, self.nodes)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
        _check(self.anti_entropy_interval > 0, "--anti-entropy-interval must be > 0")
        _check(self.quiesce_timeout > 0, "--quiesce-timeout must be > 0 seconds")
        _check(self.test_count >= 1, "--test-count must be at least 1")
        _check(self.seed >= 0, "--seed must be >= 0")
        if self.replica_cmd is not None:
            _check_template(self.replica_cmd)
            _check(not self.replica_bugs, "--replica-bug applies only to the reference replica")
        if self.replica_image is not None:
            _check(bool(self.replica_image.strip()), "--replica-image must name an image")
            _check(not self.replica_bugs, "--replica-bug applies only to the reference replica")
            _check(self.backend != "local", f"--replica-image {self.replica_image}: an image "
                   "runs on the docker backend, not local (use --replica-cmd for a command "
                   "on this host)")
        for bug in self.replica_bugs:  # else every node exits at start and nothing says why
            _check(bug in REPLICA_BUGS,
                   f"unknown --replica-bug {bug!r}; choose from {', '.join(REPLICA_BUGS)}")
        self._validate_system()

    def _validate_quorums(self) -> None:
        n = self.replication
        _check(1 <= n <= self.nodes, f"--n must be between 1 and --nodes ({self.nodes})")
        _check(1 <= self.r <= n, f"--r must be between 1 and n ({n})")
        _check(1 <= self.w <= n, f"--w must be between 1 and n ({n})")
        _check(self.r + self.w > n or self.allow_weak_quorum,
               f"r + w = {self.r + self.w} <= n = {n} is no quorum system; "
               "pass --allow-weak-quorum to test it anyway")

    def _validate_system(self) -> None:
        """The system exists, takes these options, and can do what was asked."""
        try:
            system = self.make_system()
            system.validate(self)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if self.system != DEFAULT_SYSTEM:
            for flag, used in (("--replica-cmd", self.replica_cmd is not None),
                               ("--replica-image", self.replica_image is not None),
                               ("--replica-bug", bool(self.replica_bugs)),
                               ("--mode client", self.mode == "client")):
                _check(not used, f"{flag} applies only to the {DEFAULT_SYSTEM} system")
        _check(self.backend == "auto" or self.backend in system.backends,
               f"the {self.system} system runs on the {' or '.join(system.backends)} "
               f"backend, not {self.backend}")
        clock_kinds = [kind for kind in self.nemesis if KINDS[kind].capability is ClockControl]
        _check(not (clock_kinds and system.clock_unreachable),
               f"--nemesis {', '.join(clock_kinds)}: clock skew cannot reach the "
               f"{self.system} system ({system.clock_unreachable})")
        _check(self.cas_ratio == 0 or "cas" in system.ops,
               f"--cas-ratio {self.cas_ratio:g}: the {self.system} system has no cas "
               f"(its ops: {', '.join(sorted(system.ops))})")


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def _check_template(template: str) -> None:
    """A --replica-cmd template may use only the documented fields."""
    fields = re.findall(r"{([^{}]*)}", template)
    unknown = sorted(set(fields) - set(TEMPLATE_FIELDS))
    _check(not unknown, f"--replica-cmd: unknown field(s) {', '.join(unknown)}; "
           f"allowed: {', '.join('{' + f + '}' for f in TEMPLATE_FIELDS)}")
    _check("{listen}" in template, "--replica-cmd must contain {listen}")
