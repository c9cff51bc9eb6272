"""The fault kinds, one class each, in one registry (Jepsen's nemesis reflection).

A kind holds everything the rest of quorumlab needs to know about it: its name
and help text (CLI), the nodes it needs and how it picks its targets
(schedule), the backend capability it drives and how it starts and stops
through it (driver), the history events it records, and the label and colour
that the plots and report.html show its windows in. Nothing else lists kinds, so adding one is a
class here, plus a mechanism in each backend only when no capability offers
what it needs yet.

Deciding a fault uses only the schedule's ``rng``: the same seed gives the same
faults, which is what makes a run's plan replayable.
"""

from __future__ import annotations

import abc
import asyncio
import random
from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any, ClassVar

from nemesis.capabilities import (
    CAPABILITY_NAMES,
    ClockControl,
    Grudge,
    NetworkFaults,
    ProcessControl,
)
from nemesis.faults import (
    DELAY_MS,
    JITTER_MS,
    LOSS,
    MAX_SKEW_S,
    TARGET_CHOICES,
    Fault,
    bridge,
    choose_targets,
    grudge_from_components,
    halves,
    isolate,
    random_grudge,
    ring,
    two_components,
)


class FaultKind(abc.ABC):
    """One kind of fault; subclasses fill in the class attributes and three methods."""

    name: ClassVar[str]
    help: ClassVar[str]  # a phrase for `--nemesis` help (the name is added before it)
    min_nodes: ClassVar[int] = 1  # smallest cluster on which the kind means something
    capability: ClassVar[type]  # the backend capability start and stop drive
    events: ClassVar[tuple[str, str]]  # history `f` recorded at start, at stop
    label: ClassVar[str]  # what plots call its windows (kinds of one family share one)
    colour: ClassVar[str]  # matplotlib colour of those windows
    usage: ClassVar[str] = ""  # the words `quorumlab fault NAME` takes (empty: none)
    scheduled: ClassVar[bool] = True  # False: applied by hand only, never by --nemesis

    @abc.abstractmethod
    def decide(self, nodes: Sequence[str], rng: random.Random,
               target_choice: str | None) -> Fault:
        """One fault of this kind on ``nodes``, using ``rng`` only."""

    @abc.abstractmethod
    async def start(self, backend: Any, fault: Fault) -> None:
        """Apply ``fault`` through ``backend``, which offers :attr:`capability`."""

    @abc.abstractmethod
    async def stop(self, backend: Any, fault: Fault) -> None:
        """Undo ``fault``."""

    def by_hand(self, nodes: Sequence[str], words: Sequence[str],
                rng: random.Random) -> Fault:
        """The fault ``quorumlab fault NAME WORDS...`` asks for (ValueError, one line,
        for bad words). Without words it is decided as the schedule would."""
        if words:
            raise ValueError(f"fault {self.name} takes no arguments (got {' '.join(words)})")
        return self.decide(nodes, rng, None)

    async def check(self, backend: Any, fault: Fault) -> dict[str, Any] | None:
        """Right after start: did ``fault`` take effect? What the history records
        (``took_effect`` and why not), or None for a kind that cannot be probed."""
        return None


KINDS: dict[str, FaultKind] = {}
"""Every fault kind by name, in the order `--nemesis all` lists them."""


def register(cls: type[FaultKind]) -> type[FaultKind]:
    """Class decorator: defining a kind is what makes it known (no list to update)."""
    KINDS[cls.name] = cls()
    return cls


class _ProcessKind(FaultKind):
    """A fault on whole nodes: Jepsen's one / minority / majority / all targets."""

    capability = ProcessControl
    usage = "[NODE,... | one | minority | majority | all]  (default: one, at random)"

    def decide(self, nodes: Sequence[str], rng: random.Random,
               target_choice: str | None) -> Fault:
        return Fault(self.name, choose_targets(nodes, rng, target_choice))

    def by_hand(self, nodes: Sequence[str], words: Sequence[str],
                rng: random.Random) -> Fault:
        if len(words) == 1 and words[0] in TARGET_CHOICES:
            return self.decide(nodes, rng, words[0])
        if not words:
            return self.decide(nodes, rng, "one")
        return Fault(self.name, named_nodes(nodes, words))

    @staticmethod
    async def _on_targets(fault: Fault, act: Callable[[str], Awaitable[None]]) -> None:
        """All targets at once, so a majority goes down together, not one by one."""
        await asyncio.gather(*(act(node) for node in fault.targets))


@register
class Kill(_ProcessKind):
    name = "kill"
    help = "SIGKILL nodes and start them again at heal, data kept"
    events = ("kill", "start")
    label, colour = "kill", "tab:red"

    async def start(self, backend: ProcessControl, fault: Fault) -> None:
        await self._on_targets(fault, backend.kill)

    async def stop(self, backend: ProcessControl, fault: Fault) -> None:
        await self._on_targets(fault, backend.start)


@register
class Pause(_ProcessKind):
    name = "pause"
    help = "freeze nodes with SIGSTOP or docker pause"
    events = ("pause", "resume")
    label, colour = "pause", "tab:purple"

    async def start(self, backend: ProcessControl, fault: Fault) -> None:
        await self._on_targets(fault, backend.pause)

    async def stop(self, backend: ProcessControl, fault: Fault) -> None:
        await self._on_targets(fault, backend.resume)


class _PartitionKind(FaultKind):
    """A grudge of a given shape; every node named in it is a target."""

    capability = NetworkFaults
    events = ("start-partition", "stop-partition")
    label, colour = "partition", "tab:blue"
    shape: ClassVar[Callable[[list[str], random.Random], Grudge]]

    def decide(self, nodes: Sequence[str], rng: random.Random,
               target_choice: str | None) -> Fault:
        grudge = type(self).shape(list(nodes), rng)
        affected = {a for a, dropped in grudge.items() if dropped}
        affected |= {b for dropped in grudge.values() for b in dropped}
        return Fault(self.name, tuple(sorted(affected)), grudge)

    async def start(self, backend: NetworkFaults, fault: Fault) -> None:
        assert fault.grudge is not None
        await backend.partition(fault.grudge)

    async def stop(self, backend: NetworkFaults, fault: Fault) -> None:
        await backend.heal()

    async def check(self, backend: NetworkFaults, fault: Fault) -> dict[str, Any]:
        """Probe every pair of the fault's nodes: a cut pair must not answer, a
        pair left whole must. A silent fault is worse than none, since the
        run then claims to have tested what it never did.

        A pair left whole that stays silent is probed again for up to
        :data:`WHOLE_PAIR_GRACE_S`: its target may still be starting (a node
        killed by the fault before comes back within a second or two), and a
        node that is not serving yet says nothing about the link."""
        grudge = fault.grudge or {}

        def cut(src: str, dst: str) -> bool:
            return dst in grudge.get(src, ()) or src in grudge.get(dst, ())

        pairs = [(src, dst) for src in fault.targets for dst in fault.targets if src != dst]
        answered = dict(zip(pairs, await _probe(backend, pairs), strict=True))
        probes = len(pairs)
        deadline = asyncio.get_running_loop().time() + WHOLE_PAIR_GRACE_S
        while silent := [pair for pair in pairs if not answered[pair] and not cut(*pair)]:
            if asyncio.get_running_loop().time() >= deadline:
                break
            await asyncio.sleep(REPROBE_EVERY_S)
            answered.update(zip(silent, await _probe(backend, silent), strict=True))
            probes += len(silent)
        wrong = [f"{src}->{dst} {'answered' if answer else 'got no answer'} "
                 f"though {'cut' if cut(src, dst) else 'left whole'}"
                 for (src, dst), answer in sorted(answered.items()) if answer == cut(src, dst)]
        return {"took_effect": not wrong, "probes": probes, "wrong": wrong}


WHOLE_PAIR_GRACE_S = 3.0  # how long a pair left whole may stay silent (a node restarting)
REPROBE_EVERY_S = 0.25


async def _probe(backend: NetworkFaults, pairs: Sequence[tuple[str, str]]) -> list[bool]:
    """Does each ``src -> dst`` pair answer? One call per source (a docker backend
    probes from inside it), all sources at once; each probe is bounded."""
    by_src: dict[str, list[str]] = {}
    for src, dst in pairs:
        by_src.setdefault(src, []).append(dst)
    replies = await asyncio.gather(*(backend.answers(src, dsts) for src, dsts in by_src.items()))
    answers = dict(zip(by_src, replies, strict=True))
    return [answers[src][dst] for src, dst in pairs]


@register
class PartitionHalves(_PartitionKind):
    name = "partition-halves"
    help = "a random majority cut off from the minority"
    min_nodes = 3  # with 2 nodes one half would be empty
    shape = staticmethod(halves)


@register
class PartitionIsolate(_PartitionKind):
    name = "partition-isolate"
    help = "one node cut off from all others"
    min_nodes = 2
    shape = staticmethod(isolate)
    usage = "[NODE]  (default: one at random)"

    def by_hand(self, nodes: Sequence[str], words: Sequence[str],
                rng: random.Random) -> Fault:
        if not words:
            return self.decide(nodes, rng, None)
        (node,) = named_nodes(nodes, words, most=1)
        return self._of(grudge_from_components([[node], [n for n in nodes if n != node]]))

    def _of(self, grudge: Grudge) -> Fault:
        return Fault(self.name, tuple(sorted(node for node, cut in grudge.items() if cut)),
                     grudge)


@register
class PartitionRing(_PartitionKind):
    name = "partition-ring"
    help = "each node sees a different majority"
    min_nodes = 4  # on 3 nodes a majorities ring is the full mesh
    shape = staticmethod(ring)


@register
class PartitionBridge(_PartitionKind):
    name = "partition-bridge"
    help = "two halves joined by one node"
    min_nodes = 3
    shape = staticmethod(bridge)


@register
class PartitionRandom(_PartitionKind):
    name = "partition-random"
    help = "random pairs cut, one way or both"
    min_nodes = 2
    shape = staticmethod(random_grudge)


@register
class PartitionOneWay(_PartitionKind):
    """Real networks fail one way (a bad NIC queue, an asymmetric firewall rule),
    and quorum code often assumes that if it hears a peer, the peer hears it.
    Over TCP a one-way drop stalls request/response both ways on new
    connections, while an open one delivers requests but not their replies;
    a message-level network (Maelstrom's) would drop exactly one direction."""

    name = "partition-oneway"
    help = "half the nodes drop what the others send; the others still hear them"
    min_nodes = 2

    @staticmethod
    def shape(nodes: list[str], rng: random.Random) -> Grudge:
        shuffled = list(nodes)
        rng.shuffle(shuffled)
        deaf, talkers = shuffled[: len(nodes) // 2], frozenset(shuffled[len(nodes) // 2 :])
        return {node: talkers for node in deaf}


@register
class Partition(_PartitionKind):
    """A partition a person names: ``n1,n2/n3,n4,n5``. A schedule has no use for
    it (its shapes are the kinds above), so it is applied by hand only."""

    name = "partition"
    help = "the components given, e.g. n1,n2/n3,n4,n5 (by hand only)"
    min_nodes = 2
    usage = "NODE,.../NODE,...[/...]  (nodes left out keep talking to everyone)"
    scheduled = False

    shape = staticmethod(two_components)  # decided without a person

    def by_hand(self, nodes: Sequence[str], words: Sequence[str],
                rng: random.Random) -> Fault:
        if len(words) != 1 or "/" not in words[0]:
            raise ValueError(f"fault partition takes components like n1,n2/n3 "
                             f"(got {' '.join(words) or 'nothing'})")
        components = [named_nodes(nodes, [part]) for part in words[0].split("/")]
        named = [node for component in components for node in component]
        if len(named) != len(set(named)):
            raise ValueError(f"fault partition {words[0]}: a node is in two components")
        grudge = grudge_from_components(components)
        return Fault(self.name, tuple(sorted(grudge)), grudge)


@register
class Delay(FaultKind):
    name = "delay"
    help = f"{DELAY_MS:g}±{JITTER_MS:g} ms and {LOSS:.0%} loss between nodes"
    min_nodes = 2
    capability = NetworkFaults
    events = ("start-delay", "stop-delay")
    label, colour = "delay", "tab:olive"
    usage = (f"[DELAY [JITTER [LOSS]]], e.g. 50ms 10ms 5%  (default {DELAY_MS:g}ms "
             f"{JITTER_MS:g}ms {LOSS:.0%}; with a delay given, no jitter or loss unless given)")

    def decide(self, nodes: Sequence[str], rng: random.Random,
               target_choice: str | None) -> Fault:
        return Fault(self.name, tuple(nodes), delay=(DELAY_MS, JITTER_MS, LOSS))

    def by_hand(self, nodes: Sequence[str], words: Sequence[str],
                rng: random.Random) -> Fault:
        if not words:
            return self.decide(nodes, rng, None)
        if len(words) > 3:
            raise ValueError(f"fault delay takes at most DELAY JITTER LOSS (got {' '.join(words)})")
        delay_ms = parse_seconds(words[0], "delay") * 1000
        jitter_ms = parse_seconds(words[1], "jitter") * 1000 if len(words) > 1 else 0.0
        loss = parse_fraction(words[2]) if len(words) > 2 else 0.0
        if delay_ms < 0 or jitter_ms < 0:
            raise ValueError("fault delay: delay and jitter must be >= 0")
        return Fault(self.name, tuple(nodes), delay=(delay_ms, jitter_ms, loss))

    async def start(self, backend: NetworkFaults, fault: Fault) -> None:
        assert fault.delay is not None
        await backend.set_link_delay(*fault.delay)

    async def stop(self, backend: NetworkFaults, fault: Fault) -> None:
        await backend.clear_link_delay()


@register
class ClockSkew(FaultKind):
    name = "clock-skew"
    help = f"shift clocks of nodes by up to ±{MAX_SKEW_S:g} s"
    capability = ClockControl
    events = ("skew-clock", "reset-clock")
    label, colour = "clock", "tab:cyan"
    usage = ("[NODE OFFSET ...], e.g. n1 +30s; a negative one after --: -- n1 -500ms  "
             "(default: random nodes and offsets)")

    def by_hand(self, nodes: Sequence[str], words: Sequence[str],
                rng: random.Random) -> Fault:
        if not words:
            return self.decide(nodes, rng, None)
        if len(words) % 2:
            raise ValueError(f"fault clock-skew takes NODE OFFSET pairs (got {' '.join(words)})")
        offsets = {}
        for node_word, offset in zip(words[::2], words[1::2], strict=True):
            (node,) = named_nodes(nodes, [node_word], most=1)
            offsets[node] = parse_seconds(offset, "clock offset")
        return Fault(self.name, tuple(sorted(offsets)), offsets=offsets)

    def decide(self, nodes: Sequence[str], rng: random.Random,
               target_choice: str | None) -> Fault:
        targets = choose_targets(nodes, rng, target_choice)
        return Fault(self.name, targets, offsets={
            node: round(rng.uniform(-MAX_SKEW_S, MAX_SKEW_S), 3) for node in targets})

    async def start(self, backend: ClockControl, fault: Fault) -> None:
        offsets = fault.offsets or {}
        await asyncio.gather(*(backend.skew_clock(node, s) for node, s in offsets.items()))

    async def stop(self, backend: ClockControl, fault: Fault) -> None:
        await asyncio.gather(*(backend.skew_clock(node, 0.0) for node in fault.offsets or {}))


DEFAULT_NEMESIS = "kill,partition-halves,partition-isolate,partition-ring,partition-bridge,delay"
"""What ``quorumlab run`` injects unless told otherwise: crashes, every
symmetric partition shape, and slow lossy links. The last is what real networks
do most, and it is what makes one replica's copy of a write arrive long after
another's: without it a quorum acknowledged too early, or a read that does not
repair, shows only when a partition happens to start mid-write."""


def scheduled_kinds() -> list[str]:
    """The kinds a --nemesis schedule may use, in registry order."""
    return [name for name, kind in KINDS.items() if kind.scheduled]


def named_nodes(nodes: Sequence[str], words: Sequence[str], most: int | None = None
                ) -> tuple[str, ...]:
    """The nodes ``words`` name (``n1,n2`` or ``n1 n2``); ValueError (one line) for a
    node the cluster lacks, none at all, or more than ``most``."""
    named = [part for word in words for part in word.split(",") if part]
    unknown = [node for node in named if node not in nodes]
    if unknown:
        raise ValueError(f"unknown node {unknown[0]!r}; the cluster has {', '.join(nodes)}")
    if not named or (most is not None and len(named) > most):
        wanted = "a node" if most == 1 else "nodes"
        raise ValueError(f"expected {wanted}, got {' '.join(words) or 'nothing'}")
    return tuple(dict.fromkeys(named))


def parse_seconds(text: str, what: str) -> float:
    """``"50ms"``, ``"+30s"``, ``"-1.5"`` (seconds) -> seconds; ValueError (one line)."""
    body, scale = text, 1.0
    if text.endswith("ms"):
        body, scale = text[:-2], 0.001
    elif text.endswith("s"):
        body = text[:-1]
    try:
        return float(body) * scale
    except ValueError:
        raise ValueError(f"{what} {text!r}: write e.g. 50ms, 2s or -1.5s") from None


def parse_fraction(text: str) -> float:
    """``"5%"`` or ``"0.05"`` -> 0.05; ValueError (one line) outside [0, 1]."""
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise ValueError(f"loss {text!r}: write e.g. 5% or 0.05") from None
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"loss {text!r} must be between 0 and 100%")
    return value


def parse_nemesis(value: str, n_nodes: int | None = None) -> list[str]:
    """``"kill,partition-ring" | "all" | "default" | "none"`` -> list of kinds, in
    the order given.

    With ``n_nodes``, ``all`` and ``default`` keep only the kinds that fit the
    cluster (so a 3-node run's default has no majorities ring), and an explicit
    kind that does not fit is an error. Raises ValueError with a
    one-line message.
    """
    text = value.strip()
    if text in ("", "none"):
        return []
    if text in ("all", "default"):
        names = scheduled_kinds() if text == "all" else DEFAULT_NEMESIS.split(",")
        return [name for name in names if n_nodes is None or n_nodes >= KINDS[name].min_nodes]
    names: list[str] = []
    for raw in text.split(","):
        name = raw.strip()
        check_kind(name, n_nodes)
        if name not in names:
            names.append(name)
    return names


def check_kind(name: str, n_nodes: int | None = None) -> None:
    """ValueError (one line) unless ``name`` is a kind that fits ``n_nodes`` nodes."""
    scheduled = scheduled_kinds()
    if name not in KINDS:
        raise ValueError(f"unknown nemesis {name!r}; choose from {', '.join(scheduled)}, "
                         "or all, none")
    if not KINDS[name].scheduled:
        raise ValueError(f"nemesis {name!r} is applied by hand only (quorumlab fault {name}); "
                         f"a schedule chooses from {', '.join(scheduled)}")
    if n_nodes is not None and n_nodes < KINDS[name].min_nodes:
        raise ValueError(f"--nemesis {name} needs --nodes {KINDS[name].min_nodes} or more "
                         f"(got --nodes {n_nodes})")


def check_capabilities(names: Collection[str], offered: Collection[type], backend: str) -> None:
    """ValueError (one line) for the first kind whose capability ``backend`` lacks."""
    for name in names:
        needed = KINDS[name].capability
        if needed not in offered:
            raise ValueError(f"nemesis {name!r} needs {CAPABILITY_NAMES[needed]}, "
                             f"which the {backend} backend does not offer")


def parse_target_choice(value: str | None) -> str | None:
    """Validate a kill/pause target restriction (None: random each time)."""
    if value is None or value in TARGET_CHOICES:
        return value
    raise ValueError(f"unknown target choice {value!r}; choose from {', '.join(TARGET_CHOICES)}")


def nemesis_help() -> str:
    """The `--nemesis` choices, one phrase each, for the CLI."""
    return "; ".join(f"{name}: {KINDS[name].help}" for name in scheduled_kinds())
