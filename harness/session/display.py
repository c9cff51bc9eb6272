"""How the session commands' answers read in a terminal: one line per thing."""

from __future__ import annotations

from typing import Any

import orjson


def json_text(value: Any) -> str:
    return orjson.dumps(value).decode()


def fault_text(value: dict[str, Any]) -> str:
    """A recorded fault value (Fault.describe()) in words: "kill n2", "partition
    n1,n2 | n3 (n3 drops n1,n2; ...)", "delay 50ms ±0ms, 0% loss", "clock-skew n1 +30s"."""
    kind, nodes = value["kind"], ",".join(value.get("nodes", []))
    if "grudge" in value:
        return f"{kind} {grudge_text(value['grudge'])}"
    if "delay_ms" in value:
        return (f"{kind} {value['delay_ms']:g}ms ±{value['jitter_ms']:g}ms, "
                f"{value['loss']:.0%} loss")
    if "offsets_s" in value:
        return f"{kind} " + " ".join(f"{node} {s:+g}s" for node, s in value["offsets_s"].items())
    return f"{kind} {nodes}"


def grudge_text(grudge: dict[str, list[str]]) -> str:
    """Components when the grudge is one ("n3 | n1,n2,n4,n5"), else who drops whom."""
    groups: dict[frozenset[str], list[str]] = {}
    for node, dropped in grudge.items():
        groups.setdefault(frozenset(dropped), []).append(node)
    everyone = set(grudge)
    if all(dropped == everyone - set(members) for dropped, members in groups.items()):
        return " | ".join(",".join(sorted(members)) for members in sorted(groups.values()))
    return "(" + "; ".join(f"{a} drops {','.join(b)}" for a, b in grudge.items()) + ")"


def check_text(value: dict[str, Any]) -> str:
    """A check-fault event's value: did the fault take effect?"""
    if value.get("took_effect"):
        return f"took effect ({value.get('probes', 0)} probes)"
    return "DID NOT take effect: " + "; ".join(value.get("wrong", []))


def op_text(event: dict[str, Any]) -> str:
    """A completed kv op: "ok  k1 = "a"  version [1,"n:n1:1"]  (read at n1, #12)"."""
    read = event["f"] == "read"
    line = f"{event['type']:<4}  {event['key']}"
    if not read or event["type"] == "ok":  # a failed read returned nothing
        line += f" {'=' if read else '<-'} {json_text(event.get('value'))}"
    if event.get("version") is not None:
        line += f"  version {json_text(event['version'])}"
    line += f"  ({event['f']} at {event.get('node')}, #{event['index']})"
    if event.get("error"):
        meaning = ("it certainly did not happen" if event["type"] == "fail"
                   else "it may have happened, or may yet")
        line += f"\n      {event['error']} ({meaning})"
    return line


def final_text(answer: dict[str, Any]) -> str:
    """What a final phase did: "final phase: healed kill n2; replicas converged in
    0.4s; 3 keys, 9 copies read (0 unanswered)"."""
    healed = "; ".join(fault_text(f) for f in answer["healed"]) or "no fault was in effect"
    quiesce = answer["quiesce"]
    if quiesce is None:  # a system whose client cannot read each replica's own copy
        agreed = "not compared (the system's client reads through its API only)"
    else:
        agreed = (("converged" if quiesce["converged"] else "still disagreed")
                  + f" after {quiesce['seconds']:g}s")
    keys = f"{answer['keys']} key" + ("" if answer["keys"] == 1 else "s")
    line = (f"final phase: healed {healed}; replicas {agreed}; {keys}, "
            f"{answer['copies']} copies read ({answer['unanswered']} unanswered)")
    return line + (f"\nwarning: {answer['warning']}" if answer["warning"] else "")


def counts_text(ops: dict[str, dict[str, int]]) -> str:
    """{"read": {"ok": 3, "fail": 1, "info": 0}} -> "read 3 ok 1 fail 0 info"."""
    if not ops:
        return "none yet"
    return "; ".join(f"{f} " + " ".join(f"{n} {t}" for t, n in by_type.items())
                     for f, by_type in ops.items())
