"""A simulated run told as a short numbered story: the cluster, each client
op (invoked, then how it ended), each fault, and, for the ops the anomaly
names, every message they sent: when, from where to where, and when it
arrived or that it was lost."""

from __future__ import annotations

from typing import Any

from checkers.api import Report
from checkers.history import FINAL, NEMESIS, Event
from replica.protocol import Get, NoReply, Put, Reply
from sim.network import Sent
from sim.simulation import SimResult


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


def _version(version: Any) -> str:
    return "none" if version is None else f"[{version[0]}, {version[1]}]"


def describe_message(what: Any) -> str:
    if isinstance(what, Get):
        return f"get {what.key}"
    if isinstance(what, Put):
        return f"put {what.key} = {what.value!r} at {_version(what.version)}"
    if isinstance(what, Reply):
        if what.value is None and what.version is not None:
            return f"ack, holds {_version(what.version)}"
        return f"reply {what.value!r} at {_version(what.version)}"
    if isinstance(what, NoReply):
        return what.reason
    if isinstance(what, tuple):
        return "anti-entropy " + " ".join(str(part) for part in what)
    return repr(what)


def _event_line(event: Event) -> str | None:
    if event.process == NEMESIS:
        value = event.value or {}
        nodes = ", ".join(value.get("nodes", [])) or ""
        extra = ""
        if "grudge" in value:
            extra = " (" + "; ".join(f"{a} drops {', '.join(b)}"
                                     for a, b in value["grudge"].items()) + ")"
        elif "offsets_s" in value:
            extra = " (" + ", ".join(f"{n} {s:+g}s" for n, s in value["offsets_s"].items()) + ")"
        elif "links" in value:
            extra = " on " + ", ".join(f"{a}->{b}" for a, b in value["links"])
            extra += f" ({value['model']})"
        return f"nemesis {event.f} {nodes}{extra}".rstrip()
    if event.process == FINAL:
        return None
    what = f"client {event.process} at {event.node}"
    if event.type == "invoke":
        value = f" = {event.value!r}" if event.f == "write" else ""
        return f"{what}: #{event.index} {event.f} {event.key}{value}"
    if event.type == "ok":
        shown = f" -> {event.value!r}" if event.f == "read" else ""
        return f"{what}: {event.f} {event.key}{shown} ok, version {_version(event.version)}"
    return f"{what}: {event.f} {event.key} {event.type} ({event.error})"


def tell(result: SimResult, report: Report, title: str) -> list[str]:
    """The story's lines (numbered), the anomaly last."""
    schedule = result.schedule
    anomalies = [a for r in report.results for a in r.anomalies]
    involved = set(anomalies[0].ops) if anomalies else set()
    lines = [title,
             f"cluster: {schedule.nodes} nodes, n={schedule.replication} "
             f"r={schedule.read_quorum} w={schedule.write_quorum}, {schedule.mode} mode, "
             f"{sum(1 for ops in schedule.clients if ops)} clients, {schedule.op_count} ops, "
             f"{len(schedule.faults)} faults, bugs: {', '.join(schedule.bugs) or 'none'}"]
    if schedule.disks_ms:
        lines.append("disks: " + ", ".join(f"{node} {ms:g} ms a commit" for node, ms
                                           in zip(schedule.node_ids, schedule.disks_ms,
                                                  strict=True)))
    entries: list[tuple[float, int, str]] = []
    for event in result.events:
        line = _event_line(event)
        if line is not None:
            entries.append((event.time / 1e9, 0, line))
    for sent in result.trace or []:
        if sent.tag in involved:
            entries.append((sent.at, 1, _message_line(sent)))
    entries.sort(key=lambda entry: (entry[0], entry[1]))
    for number, (at, kind, line) in enumerate(entries, start=1):
        indent = "    " if kind else ""
        lines.append(f"{number:3d}. {_ms(at)}  {indent}{line}")
    if anomalies:
        first = anomalies[0]
        lines.append(f"anomaly: {first.kind}" + (f" on {first.key}" if first.key else "")
                     + f": {first.explanation}")
        if len(anomalies) > 1:
            lines.append(f"(and {len(anomalies) - 1} more; see results.json)")
    return lines


def _message_line(sent: Sent) -> str:
    what = describe_message(sent.what)
    if not sent.arrivals:
        return f"{sent.src} -> {sent.dst} {what}: {sent.why_lost}"
    arrivals = ", ".join(f"{(t - sent.at) * 1000:.2f}" for t in sent.arrivals)
    copies = " (duplicated)" if len(sent.arrivals) > 1 else ""
    return f"{sent.src} -> {sent.dst} {what}: arrives after {arrivals} ms{copies}"
