"""The bug-power matrix: each configuration run K times, and what the checkers caught.

A harness that catches a broken quorum in one run of three is not testing it.
The matrix measures that: one row per configuration (the correct replica in
each mode, and each bug switch under the fault that naturally exposes it),
K runs each with recorded seeds, and per row the detection rate, which
checkers and anomaly kinds fired, how soon the first anomaly happened and how
many ops completed while faults were active (quorum bugs show in exactly those
windows, so a harness that records few ops there finds little).

Everything is read back from the run folders (results.json, history.jsonl),
so a row's figures are those of the artefacts a user can open.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from checkers.formats import load_history
from checkers.history import pair_ops
from harness.fault_log import fault_windows, merged_spans


@dataclass(frozen=True)
class Row:
    """One configuration of the matrix: what to break and which faults expose it."""

    name: str
    bugs: tuple[str, ...] = ()
    nemesis: str = "default"
    mode: str = "coordinator"
    options: dict[str, Any] = field(default_factory=dict)  # further RunConfig fields
    # A configuration its makers document as weaker than linearizable (Garage's
    # degraded and dangerous modes): the matrix expects it caught, like a bug.
    documented_weak: bool = False

    @property
    def slug(self) -> str:
        """The row's name as a test name (run folders are named after it)."""
        return self.name.replace("=", "-")

    @property
    def expects_anomaly(self) -> bool:
        return (bool(self.bugs) or self.options.get("allow_weak_quorum", False)
                or self.documented_weak)


WEAK_QUORUM = {"r": 1, "w": 1, "allow_weak_quorum": True}
KILL_EVERY_NODE = {"nemesis_targets": "all"}
DEFAULT_ROWS: tuple[Row, ...] = (
    Row("correct", nemesis="all"),
    Row("correct-client", nemesis="all", mode="client"),
    Row("early-ack", bugs=("early-ack",)),
    # A read that skips its write-back shows only while a write sits on fewer
    # than w replicas; slow links hold it there (partitions rarely do: the
    # majority side overwrites the key before anyone reads the stranded copy).
    Row("no-read-repair", bugs=("no-read-repair",)),
    Row("local-version", bugs=("local-version",)),
    Row("r=w=1", options=WEAK_QUORUM),
    Row("wall-clock", bugs=("wall-clock",), nemesis="clock-skew"),
    Row("async-commit", bugs=("async-commit",), nemesis="kill", options=KILL_EVERY_NODE),
    Row("amnesia", bugs=("amnesia",), nemesis="kill", options=KILL_EVERY_NODE),
)



def _garage(consistency: str) -> dict[str, Any]:
    return {"system": "garage", "nodes": 3,
            "system_opts": {"consistency": consistency, "replication": "3"}}


GARAGE_PARTITIONS = "partition-halves,partition-isolate,partition-oneway,partition-random"
# Garage rows, run only when named (--bugs garage-...): they need Docker and the
# garage binary (`quorumlab image build --system garage`), and are
# investigations of a real store: what its consistent mode holds, and whether
# the weaker modes it documents are caught.
GARAGE_ROWS: tuple[Row, ...] = (
    Row("garage-consistent-partitions", nemesis=GARAGE_PARTITIONS,
        options=_garage("consistent")),
    Row("garage-consistent-clock", nemesis="clock-skew", options=_garage("consistent")),
    Row("garage-consistent-clock-partition", nemesis="clock-skew,partition-isolate",
        options=_garage("consistent")),
    Row("garage-consistent-kill", nemesis="kill,pause", options=_garage("consistent")),
    Row("garage-degraded", nemesis=GARAGE_PARTITIONS, options=_garage("degraded"),
        documented_weak=True),
    Row("garage-dangerous", nemesis=GARAGE_PARTITIONS, options=_garage("dangerous"),
        documented_weak=True),
)
ROWS_BY_NAME = {row.name: row for row in (*DEFAULT_ROWS, *GARAGE_ROWS)}


@dataclass(frozen=True)
class RunMeasure:
    """What one run of a row showed."""

    folder: str
    seed: int
    verdict: bool | str | None  # None: the harness failed (no verdict)
    checkers_fired: tuple[str, ...]
    kinds: dict[str, int]
    first_anomaly_s: float | None  # test start to the first anomalous op's completion
    ok_per_s: float
    ok_per_s_in_faults: float | None  # None: no fault window

    def to_dict(self) -> dict[str, Any]:
        return {"folder": self.folder, "seed": self.seed, "verdict": self.verdict,
                "checkers_fired": list(self.checkers_fired), "kinds": self.kinds,
                "first_anomaly_s": self.first_anomaly_s, "ok_per_s": self.ok_per_s,
                "ok_per_s_in_faults": self.ok_per_s_in_faults}


def measure_run(folder: Path, seed: int, workload_s: float) -> RunMeasure:
    """Read one run's results and history back and measure it."""
    results = orjson.loads((folder / "results.json").read_bytes())
    report = results.get("checkers") or {}
    fired: list[str] = []
    kinds: Counter[str] = Counter()
    anomalous_ops: list[list[int]] = []
    for result in report.get("results", []):
        if result.get("valid") is False:
            fired.append(result["checker"])
        for anomaly in result.get("anomalies", []):
            kinds[anomaly["kind"]] += 1
            anomalous_ops.append(list(anomaly.get("ops") or []))
    history = load_history(folder / "history.jsonl")
    ops = pair_ops(history.events)
    done_at = {op.invoke_index: op.complete_time for op in ops}
    client_ok = [op.complete_time / 1e9 for op in ops
                 if op.type == "ok" and isinstance(op.process, int)
                 and op.complete_time is not None]
    windows = [(start, stop) for start, stop, _ in fault_windows(history.events, workload_s)]
    return RunMeasure(
        folder=str(folder), seed=seed, verdict=results.get("valid"),
        checkers_fired=tuple(fired), kinds=dict(kinds),
        first_anomaly_s=_first_anomaly(anomalous_ops, done_at),
        ok_per_s=len(client_ok) / workload_s if workload_s > 0 else 0.0,
        ok_per_s_in_faults=_rate_in(client_ok, windows))


def _first_anomaly(anomalous_ops: list[list[int]], done_at: dict[int, int | None]) -> float | None:
    """When the earliest anomaly became observable: its last op's completion."""
    moments = []
    for ops in anomalous_ops:
        times = [done_at.get(index) for index in ops]
        known = [t for t in times if t is not None]
        if known:
            moments.append(max(known) / 1e9)
    return min(moments) if moments else None


def _rate_in(times: Sequence[float], windows: list[tuple[float, float]]) -> float | None:
    """Events per second inside the union of the windows (None without windows)."""
    merged = merged_spans(windows)
    covered = sum(stop - start for start, stop in merged)
    if covered <= 0:
        return None
    inside = sum(1 for t in times if any(start <= t <= stop for start, stop in merged))
    return inside / covered


@dataclass(frozen=True)
class RowSummary:
    """A row's runs, summed up."""

    row: Row
    runs: tuple[RunMeasure, ...]

    @property
    def detected(self) -> int:
        return sum(1 for run in self.runs if run.verdict is False)

    @property
    def failed(self) -> int:
        """Runs that gave no verdict at all (the harness failed)."""
        return sum(1 for run in self.runs if run.verdict is None)

    @property
    def as_expected(self) -> bool:
        """A bug row caught at least once; a correct row never accused (nor unknown)."""
        if self.failed:
            return False
        if self.row.expects_anomaly:
            return self.detected > 0
        return all(run.verdict is True for run in self.runs)

    def first_anomaly(self) -> tuple[float | None, float | None]:
        """(median, max) seconds to the first anomaly over the runs that had one."""
        times = [run.first_anomaly_s for run in self.runs if run.first_anomaly_s is not None]
        return (statistics.median(times), max(times)) if times else (None, None)

    def to_dict(self) -> dict[str, Any]:
        median, worst = self.first_anomaly()
        return {
            "row": self.row.name, "bugs": list(self.row.bugs), "nemesis": self.row.nemesis,
            "mode": self.row.mode, "options": self.row.options,
            "expects_anomaly": self.row.expects_anomaly, "runs": len(self.runs),
            "detected": self.detected, "harness_failures": self.failed,
            "as_expected": self.as_expected, "first_anomaly_median_s": median,
            "first_anomaly_max_s": worst, "runs_detail": [run.to_dict() for run in self.runs],
        }


def _fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def markdown_table(summaries: Sequence[RowSummary]) -> str:
    """The matrix as a markdown table (one line per row)."""
    lines = ["| row | nemesis | mode | detected | checkers | anomaly kinds | first anomaly "
             "median / max (s) | ok ops/s | ok ops/s in faults |",
             "|---|---|---|---|---|---|---|---|---|"]
    for summary in summaries:
        checkers = sorted({c for run in summary.runs for c in run.checkers_fired})
        kinds: Counter[str] = Counter()
        for run in summary.runs:
            kinds.update(run.kinds)
        median, worst = summary.first_anomaly()
        rates = [run.ok_per_s for run in summary.runs]
        in_faults = [r.ok_per_s_in_faults for r in summary.runs
                     if r.ok_per_s_in_faults is not None]
        verdict = f"{summary.detected}/{len(summary.runs)}"
        if summary.failed:
            verdict += f" ({summary.failed} no verdict)"
        if not summary.as_expected:
            verdict = f"**{verdict}**"
        lines.append(
            f"| {summary.row.name} | {summary.row.nemesis} | {summary.row.mode} | {verdict} | "
            f"{', '.join(checkers) or '–'} | "
            f"{', '.join(f'{k} {n}' for k, n in kinds.most_common()) or '–'} | "
            f"{_fmt(median)} / {_fmt(worst)} | "
            f"{_fmt(statistics.median(rates) if rates else None, 0)} | "
            f"{_fmt(statistics.median(in_faults) if in_faults else None, 0)} |")
    return "\n".join(lines)
