"""A replica that does not answer its final read is not evidence of a lost write."""

from __future__ import annotations

from pathlib import Path

import orjson

from checkers.api import check
from checkers.formats import load_history


def history(tmp_path: Path, final: list[tuple[str, str, str | None]]) -> Path:
    """A write acknowledged on k, then final reads: (node, type, value)."""
    events = [
        {"process": 0, "type": "invoke", "f": "write", "key": "k", "value": "0-1"},
        {"process": 0, "type": "ok", "f": "write", "key": "k", "value": "0-1",
         "version": [1, "n:n1:1"]},
    ]
    for node, type_, value in final:
        events.append({"process": "final", "type": "invoke", "f": "final-read", "key": "k",
                       "node": node})
        done = {"process": "final", "type": type_, "f": "final-read", "key": "k", "node": node}
        if type_ == "ok":
            done.update(value=value, version=None if value is None else [1, "n:n1:1"])
        events.append(done)
    path = tmp_path / "history.jsonl"
    path.write_bytes(b"".join(orjson.dumps({"index": i, "time": i * 1000, **event}) + b"\n"
                              for i, event in enumerate(events)))
    return path


def kinds(report) -> dict[str, set[str]]:
    return {r.checker: {a.kind for a in r.anomalies} for r in report.results}


def test_silent_holders_make_the_key_unknown_not_lost(tmp_path: Path) -> None:
    path = history(tmp_path, [("n1", "fail", None), ("n2", "fail", None), ("n3", "ok", None)])
    report = check(load_history(path))
    found = kinds(report)
    assert "lost-write" not in found["durability"] | found.get("graph", set())
    durability = next(r for r in report.results if r.checker == "durability")
    assert durability.valid == "unknown"


def test_every_replica_answering_without_the_write_is_lost(tmp_path: Path) -> None:
    path = history(tmp_path, [("n1", "ok", None), ("n2", "ok", None), ("n3", "ok", None)])
    report = check(load_history(path))
    assert "lost-write" in kinds(report)["durability"]
    assert report.verdict is False
