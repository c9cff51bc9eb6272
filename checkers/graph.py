"""Stale-read checker: a per-key history graph over the store's versions.

The graph (DESIGN.md) has one node per op on a key and four kinds of edges:
real-time (transitively reduced), version order between consecutive writes,
write->read (the read returned that write's value) and read->next-write (the
read saw a version, so it precedes the write of the next one). A cycle is an
anomaly.

Why not hand the whole graph to networkx: at a million ops, building it costs
tens of seconds and gigabytes before any search. Instead this module uses the
graph's shape. Group each write with the reads that saw it (a "cluster") and
number clusters in version order (0 = the initial value). Version, write->read
and read->next-write edges all point from a lower cluster to a higher one (or
from the write to its own reads), so every cycle needs a real-time edge that
points backwards: an op of a higher cluster completed before an op of a lower
cluster began, or a read completed before its own write began. Finding those is
a sort and a prefix-maximum sweep, O(n log n), done first for all keys at once
in numpy (checkers.version_sweep); only keys it cannot clear are placed here op
by op. networkx then explains each anomaly on the small subgraph between the
two clusters: the shortest cycle, op by op.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import orjson

from checkers.collector import paused_gc
from checkers.history import (
    FINAL,
    FINAL_READ,
    UNKNOWN_VALUE,
    WRITE_FUNCTIONS,
    History,
    Op,
    Version,
    version_key,
)
from checkers.labels import ms_text as _ms
from checkers.labels import op_label as _op
from checkers.labels import version_text as _v
from checkers.realtime import completed, reduced_realtime_edges
from checkers.result import Anomaly, CheckResult

if TYPE_CHECKING:
    import networkx as nx
    import numpy as np

    from checkers.columns import Columns

NAME = "graph"
CLAIM = "the store's version order contradicts real time"
READ_FUNCTIONS = frozenset({"read", "get"})
GRAPH_FUNCTIONS = WRITE_FUNCTIONS | READ_FUNCTIONS | {FINAL_READ}

# Cycle search budget: anomalies past the first EXPLAIN_LIMIT, or whose subgraph
# would exceed these sizes, get the cycle through their witness instead of the
# shortest one (still a real cycle, with long version chains elided).
EXPLAIN_LIMIT = 200
WINDOW_CLUSTERS = 64
WINDOW_NODES = 4000
CHAIN_SHOWN = 2


def check_graph(history: History) -> CheckResult:
    """Every anomaly on every key, by kind.

    Kinds: stale-read, non-monotonic-read, phantom-read, aborted-read,
    future-read (a value read before its write began), version-collision,
    version-inversion (a write ordered before an op that completed before it
    began) and lost-write (the final state, or a final-phase read, older than
    an acknowledged write). Valid only when there is none; ``unknown`` when a
    key cannot be ordered (written values not unique, or missing versions).
    """
    with paused_gc():
        return _check_graph(history)


def _check_graph(history: History) -> CheckResult:
    # numpy and networkx are imported here, not at the top: a history without
    # versions never needs them, and their imports cost more than its check.
    import numpy as np

    from checkers.version_sweep import suspect_keys

    columns = history.columns()
    graph_ops = columns.of_functions(GRAPH_FUNCTIONS)
    ignored = _ignored_functions(columns, graph_ops)
    per_key = np.bincount(columns.key[graph_ops], minlength=len(columns.keys))
    suspects = suspect_keys(columns, graph_ops)  # the others certainly have no anomaly
    anomalies: list[Anomaly] = []
    undecided: dict[str, str] = {}
    budget = ExplainBudget(EXPLAIN_LIMIT)
    by_key = history.ops_by_key() if suspects else {}
    for key_id in sorted(suspects):
        key = columns.keys[key_id]
        ops = [op for op in by_key[key] if op.f in GRAPH_FUNCTIONS]
        graph = KeyGraph(key, ops)
        anomalies.extend(graph.anomalies)
        if graph.undecided is not None:
            undecided[str(key)] = graph.undecided
            continue
        anomalies.extend(graph.cycle_anomalies(budget))
    valid: bool | str = True
    if anomalies:
        valid = False
    elif undecided:
        valid = "unknown"
    details: dict[str, Any] = {"keys": int(np.count_nonzero(per_key)),
                               "ops": int(per_key.sum())}
    if undecided:
        details["undecided_keys"] = undecided
    if ignored:
        details["ignored_functions"] = dict(ignored)
    return CheckResult(checker=NAME, valid=valid, anomalies=anomalies, details=details)


def _ignored_functions(columns: Columns, graph_ops: np.ndarray) -> dict[str, int]:
    """How many ops of each function the graph has no node for, functions in
    the order the key-by-key walk meets them (as the per-op checker listed them)."""
    import numpy as np

    rows = np.flatnonzero(~graph_ops)
    if not len(rows):
        return {}
    met = np.lexsort((rows, columns.key[rows]))  # key by key, each in ops order
    functions = columns.f[rows][met]
    distinct, first = np.unique(functions, return_index=True)
    counts = np.bincount(functions)
    return {columns.functions[f]: int(counts[f]) for f in distinct[np.argsort(first)]}


def has_versions(history: History) -> bool:
    """Whether the store reported versions: the graph checker needs them to order writes."""
    return any(op.version is not None for op in history.ops)


@dataclass
class ExplainBudget:
    """How many more anomalies get a networkx shortest-cycle search."""

    left: int

    def take(self) -> bool:
        self.left -= 1
        return self.left >= 0


@dataclass
class KeyGraph:
    """One key's ops placed in clusters, plus the anomalies found while placing them.

    ``writes[c]`` is the write of cluster ``c`` (``writes[0]`` is None: the
    initial value); ``cluster`` maps an op's invoke index to its cluster. Ops that
    cannot be placed (phantom or aborted reads, unobserved ``info`` writes,
    failed ops) are not graph nodes.
    """

    key: Any
    ops: list[Op]
    writes: list[Op | None] = field(default_factory=lambda: [None])
    reads: list[list[Op]] = field(default_factory=lambda: [[]])
    cluster: dict[int, int] = field(default_factory=dict)
    versions: dict[int, Version] = field(default_factory=dict)  # write invoke index -> version
    anomalies: list[Anomaly] = field(default_factory=list)
    undecided: str | None = None
    write_index: list[int] = field(default_factory=lambda: [-1])  # invoke index per cluster
    # Graph nodes as (completion index if ok else None, cluster, is a write,
    # invoke index, op): what the sweep reads.
    rows: list[tuple[int | None, int, bool, int, Op]] = field(default_factory=list)

    def __post_init__(self) -> None:
        # One pass reads every field the sweep needs, so the sweep works on
        # compact rows and never goes back to the (scattered) op objects.
        writes_by_value: dict[Any, Op] = {}
        done_at: dict[int, int | None] = {}  # invoke index -> completion index if ok
        reads: list[Op] = []
        final_reads: list[Op] = []
        final_silent = False
        versions = self.versions
        for op in self.ops:
            index, kind = op.invoke_index, op.type
            if op.f in WRITE_FUNCTIONS:
                value = op.value
                token = value if type(value) is str else _hashable(value)
                if token in writes_by_value:
                    self.undecided = (
                        f"writes #{writes_by_value[token].invoke_index} and #{index} "
                        f"wrote the same value {value!r}, so reads cannot be attributed"
                    )
                    return
                writes_by_value[token] = op
                if kind == "ok":
                    done_at[index] = op.complete_index
                    if op.version is not None:
                        versions[index] = op.version
                else:
                    done_at[index] = None
            elif kind == "ok":
                done_at[index] = op.complete_index
                (final_reads if op.f == FINAL_READ else reads).append(op)
            elif op.f == FINAL_READ:
                final_silent = True
        observed: set[int] = set()
        placed: list[tuple[int, Op, int | None]] = []  # (read index, read, write index)
        # A replica that did not answer may hold a newer copy: no final state then.
        final = [] if final_silent else self._final_representative(final_reads)
        for read in [*reads, *final]:
            ok, write = self._source(read, writes_by_value)
            if ok:
                source = None if write is None else write.invoke_index
                placed.append((read.invoke_index, read, source))
                if source is not None:
                    observed.add(source)
        for copy in final_reads:  # the other copies must hold something someone wrote too
            if all(copy is not representative for representative in final):
                self._source(copy, writes_by_value)
        self._order_writes(writes_by_value.values(), observed, done_at)
        if self.undecided is None:
            cluster, rows = self.cluster, self.rows
            for index, read, source in placed:
                c = 0 if source is None else cluster[source]
                cluster[index] = c
                self.reads[c].append(read)
                rows.append((done_at[index], c, False, index, read))

    @staticmethod
    def _final_representative(final_reads: list[Op]) -> list[Op]:
        """The node copy with the highest version stands for the final state.

        A lagging node is a convergence problem (the durability checker's), not
        a lost write: only when even the newest copy is older is a write lost.
        """
        if not final_reads:
            return []
        return [max(final_reads, key=lambda op: version_key(op.version))]

    def _source(self, read: Op, writes_by_value: dict[Any, Op]) -> tuple[bool, Op | None]:
        """(placed, the write the read saw or None for the initial value).

        ``placed`` is False when the read is an anomaly by itself (recorded here).
        """
        if read.value is UNKNOWN_VALUE:
            return False, None  # an imported read that did not learn the value: no node
        if read.value is None:
            if read.version is None:
                return True, None
            self._anomaly("phantom-read", [read], f"{_op(read)} returned no value but "
                          f"version {_v(read.version)}, which no write produced")
            return False, None
        value = read.value
        write = writes_by_value.get(value if type(value) is str else _hashable(value))
        if write is None:
            self._anomaly("phantom-read", [read],
                          f"{_op(read)} returned {read.value!r}, a value no one wrote")
            return False, None
        if write.type == "fail":
            self._anomaly("aborted-read", [read, write], f"{_op(read)} returned "
                          f"{read.value!r}, written by {_op(write)}, which failed")
            return False, None
        known = self.versions.get(write.invoke_index)
        if read.version is not None:
            if known is None:
                self.versions[write.invoke_index] = read.version
            elif known != read.version:
                self._anomaly("phantom-read", [read, write],
                              f"{_op(read)} returned {read.value!r} with version "
                              f"{_v(read.version)}, but {_op(write)} wrote it as "
                              f"version {_v(known)}")
                return False, None
        return True, write

    def _order_writes(self, writes: Iterable[Op], observed: set[int],
                      done_at: dict[int, int | None]) -> None:
        ordered: list[tuple[Version, int, Op]] = []
        versions = self.versions
        for write in writes:
            version = versions.get(write.invoke_index)
            if version is not None:
                ordered.append((version, write.invoke_index, write))
            elif write.type == "ok" or write.invoke_index in observed:
                self.undecided = (f"{_op(write)} has no version (acknowledged or read "
                                  "without one), so it cannot be ordered")
                return
            # an unobserved info or failed write may never have happened: no node
        ordered.sort()  # by version, then invoke index (never reaches the Op)
        for (version, _, previous), (other, _, write) in pairwise(ordered):
            if version == other:
                self._anomaly("version-collision", [previous, write],
                              f"{_op(previous)} and {_op(write)} got the same version "
                              f"{_v(version)}")
        for c, (_, index, write) in enumerate(ordered, start=1):
            self.writes.append(write)
            self.write_index.append(index)
            self.reads.append([])
            self.cluster[index] = c
            self.rows.append((done_at[index], c, True, index, write))

    def _anomaly(self, kind: str, ops: list[Op], explanation: str) -> None:
        self.anomalies.append(Anomaly(kind=kind, key=self.key, explanation=explanation,
                                      ops=[op.invoke_index for op in ops]))

    # -- cycles ------------------------------------------------------------

    @cached_property
    def by_index(self) -> dict[int, Op]:
        return {op.invoke_index: op for op in self.ops}

    def version_of(self, op: Op) -> Version | None:
        """The version an op wrote or saw (None: the initial value)."""
        c = self.cluster[op.invoke_index]
        return None if c == 0 else self.versions[self.writes[c].invoke_index]

    def cycle_anomalies(self, budget: ExplainBudget) -> list[Anomaly]:
        """Every op with a backward real-time edge into it, explained by a cycle."""
        rows = self.rows
        done = sorted((row for row in rows if row[0] is not None), key=itemgetter(0))
        complete_at = [row[0] for row in done]
        # After done[:i+1]: the highest cluster among completed writes (reads), and its op.
        top_write, top_read = _running_max(done, True), _running_max(done, False)
        write_index = self.write_index
        found: list[Anomaly] = []
        for complete, c, is_write, index, op in rows:
            end = bisect_left(complete_at, index)
            if end:
                w_cluster, w_op = top_write[end - 1]
                r_cluster, r_op = top_read[end - 1]
                if w_cluster > c or r_cluster > c:
                    witness = w_op if w_cluster > c else r_op
                    found.append(self._backward(op, witness, budget))
                    continue
            if c and not is_write and complete is not None and complete < write_index[c]:
                found.append(self._future_read(op))
        return found

    def _backward(self, op: Op, newest: Op, budget: ExplainBudget) -> Anomaly:
        """``op`` began after ``newest`` (the op of the highest version completed
        by then) and still got an older version. The headline names the op that
        the explained cycle closes through, so the words and the cycle agree;
        when that is not ``newest``, the headline adds it, to say how stale. The
        kind follows ``newest``: a missed acknowledged write makes a stale read
        even where a missed read alone would also close a cycle."""
        low, high = self.cluster[op.invoke_index], self.cluster[newest.invoke_index]
        cycle = self._shortest_cycle(op, low, high) if budget.take() else None
        closing = cycle[-1] if cycle else None
        if (isinstance(closing, Op) and closing is not op and completed(closing)
                and closing.complete_index < op.invoke_index
                and (closing.f in WRITE_FUNCTIONS) == (newest.f in WRITE_FUNCTIONS)):
            witness = closing
        else:
            witness, cycle = newest, self._witness_cycle(op, newest, low, high)
        newer = self.state(witness)
        if op.f in WRITE_FUNCTIONS:
            kind = "version-inversion"
            headline = (f"{_op(op)} got version {_v(self.version_of(op))}, older than "
                        f"{newer} of {_op(witness)}, yet began after that op completed")
        else:
            if op.process == FINAL:
                kind = "lost-write"
            elif witness.f in WRITE_FUNCTIONS:
                kind = "stale-read"
            else:
                kind = "non-monotonic-read"
            headline = (f"{_op(op)} returned {self.state(op)}, but {_op(witness)} had "
                        f"{_completed_with(witness)} {newer} before the read began")
        if self.cluster[newest.invoke_index] > self.cluster[witness.invoke_index]:
            headline += (f" (and by then {_op(newest)} had {_completed_with(newest)} "
                         f"{self.state(newest)})")
        return self._cycle_anomaly(kind, headline, cycle)

    def _future_read(self, read: Op) -> Anomaly:
        write = self.writes[self.cluster[read.invoke_index]]
        headline = (f"{_op(read)} returned {read.value!r}, which {_op(write)} only began "
                    "to write after the read had completed")
        return self._cycle_anomaly("future-read", headline, [write, read])

    def _cycle_anomaly(self, kind: str, headline: str, cycle: list[Op | int]) -> Anomaly:
        """A cycle's anomaly, saying first what it claims: about the store's
        versions, not about the values (that is the linearizability checker's
        claim, and both can hold at once)."""
        ops = [op.invoke_index for op in cycle if isinstance(op, Op)]
        return Anomaly(kind=kind, key=self.key, explanation=f"{CLAIM}: {headline}", ops=ops,
                       details={"cycle": self.explain_cycle(cycle)})

    def _shortest_cycle(self, op: Op, low: int, high: int) -> list[Op | int] | None:
        """The shortest cycle through ``op`` within clusters low..high, if small enough."""
        import networkx as nx  # only to explain an anomaly (see _check_graph)

        graph = self.to_networkx(low, min(high, low + WINDOW_CLUSTERS))
        if graph.number_of_nodes() > WINDOW_NODES:
            return None
        by_index = self.by_index
        start = op.invoke_index
        # The reduction keeps only the last real-time edge into op; restore the
        # others so the cycle can close from the earliest op that allows it.
        for u in list(graph):
            other = by_index[u]
            if completed(other) and other.complete_index < start:
                graph.add_edge(u, start, kind="realtime")
        distances = nx.single_source_shortest_path_length(graph, start)
        sources = [u for u in graph.predecessors(start) if u in distances]
        if not sources:
            return None
        last = min(sources, key=lambda u: distances[u])
        return [by_index[i] for i in nx.shortest_path(graph, start, last)]

    def _witness_cycle(self, op: Op, witness: Op, low: int, high: int) -> list[Op | int]:
        """op -> next write -> ... -> witness's write (-> witness) -> op, chain elided."""
        writes: list[Op | int] = [w for w in self.writes[low + 1:high + 1] if w is not None]
        if len(writes) > 2 * CHAIN_SHOWN + 1:
            hidden = len(writes) - 2 * CHAIN_SHOWN
            writes = [*writes[:CHAIN_SHOWN], hidden, *writes[-CHAIN_SHOWN:]]
        tail = [] if witness.f in WRITE_FUNCTIONS else [witness]
        return [op, *writes, *tail]

    def to_networkx(self, low: int = 0, high: int | None = None) -> nx.DiGraph:
        """The history graph of clusters low..high (all by default).

        Nodes are invoke indexes; edges carry ``kind``: realtime, version,
        wr (write->read) or rw (read->next write).
        """
        import networkx as nx  # only to explain an anomaly (see _check_graph)

        high = len(self.writes) - 1 if high is None else high
        graph = nx.DiGraph()
        members: list[Op] = []
        for c in range(low, high + 1):
            write = self.writes[c]
            following = self.writes[c + 1] if c < high else None
            if write is not None:
                members.append(write)
                if following is not None:
                    graph.add_edge(write.invoke_index, following.invoke_index, kind="version")
            for read in self.reads[c]:
                members.append(read)
                if write is not None:
                    graph.add_edge(write.invoke_index, read.invoke_index, kind="wr")
                if following is not None:
                    graph.add_edge(read.invoke_index, following.invoke_index, kind="rw")
        graph.add_nodes_from(op.invoke_index for op in members)
        for a, b in reduced_realtime_edges(members):
            if not graph.has_edge(a.invoke_index, b.invoke_index):
                graph.add_edge(a.invoke_index, b.invoke_index, kind="realtime")
        return graph

    # -- words -------------------------------------------------------------

    def state(self, op: Op) -> str:
        """What an op wrote or saw, with its version."""
        version = self.version_of(op)
        if version is None:
            return "the initial value"
        return f"{op.value!r} (version {_v(version)})"

    def explain_cycle(self, cycle: list[Op | int]) -> list[str]:
        """Plain-words steps: each op, then why it must come before the next one."""
        steps: list[str] = []
        closed = [*cycle, cycle[0]]
        for here, there in pairwise(closed):
            if isinstance(here, int):
                steps.append(f"... {here} more writes in version order ...")
                continue
            steps.append(self.describe(here))
            if isinstance(there, Op):
                steps.append(f"  -> {self._reason(here, there)}")
        return steps

    def describe(self, op: Op) -> str:
        verb = "wrote" if op.f in WRITE_FUNCTIONS else "returned"
        node = f" on {op.node}" if op.node else ""
        return (f"{_op(op)} by process {op.process}{node}, {op.type}, "
                f"{_ms(op.invoke_time)} to {_ms(op.complete_time)}: {verb} {self.state(op)}")

    def _reason(self, a: Op, b: Op) -> str:
        ca, cb = self.cluster[a.invoke_index], self.cluster[b.invoke_index]
        a_writes, b_writes = a.f in WRITE_FUNCTIONS, b.f in WRITE_FUNCTIONS
        if a_writes and b_writes and cb == ca + 1:
            return (f"version {_v(self.version_of(a))} is older than {_v(self.version_of(b))}:"
                    f" #{a.invoke_index} comes before #{b.invoke_index}")
        if a_writes and not b_writes and ca == cb:
            return f"#{b.invoke_index} read what #{a.invoke_index} wrote, so it comes after it"
        if not a_writes and b_writes and cb == ca + 1:
            return (f"#{a.invoke_index} saw the version before #{b.invoke_index}'s, so it "
                    f"comes before #{b.invoke_index}")
        return (f"#{a.invoke_index} completed at {_ms(a.complete_time)} before "
                f"#{b.invoke_index} began at {_ms(b.invoke_time)}")


def _completed_with(op: Op) -> str:
    return "been acknowledged with" if op.f in WRITE_FUNCTIONS else "returned"


def _running_max(done: list[tuple[int | None, int, bool, int, Op]],
                 writes: bool) -> list[tuple[int, Op | None]]:
    """Prefix maxima of the cluster over ``done``, counting only writes (or reads)."""
    best: tuple[int, Op | None] = (-1, None)
    out: list[tuple[int, Op | None]] = []
    append = out.append
    for _, c, is_write, _, op in done:
        if is_write is writes and c > best[0]:
            best = (c, op)
        append(best)
    return out


def _hashable(value: Any) -> Any:
    if isinstance(value, list | dict):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    return value
