"""history.jsonl: reading with validation, the incremental writer, and dispatch."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from checkers.errors import HistoryError
from checkers.formats import detect_format, load_history
from checkers.formats.jsonl import HistoryWriter, dump, load
from checkers.history import Op
from checkers.synth import register_history

INVOKE = {"index": 0, "time": 10, "process": 3, "type": "invoke", "f": "write", "key": "k1",
          "value": "3-17", "node": "n2"}
OK = {"index": 1, "time": 20, "process": 3, "type": "ok", "f": "write", "key": "k1",
      "value": "3-17", "version": [5, "n:n2:1"], "node": "n2"}


def write_lines(tmp_path: Path, *lines: str | bytes, name: str = "history.jsonl") -> Path:
    path = tmp_path / name
    path.write_bytes(b"\n".join(x if isinstance(x, bytes) else x.encode() for x in lines) + b"\n")
    return path


def line(**fields: object) -> str:
    return orjson.dumps({k: v for k, v in fields.items() if v is not ...}).decode()


def test_design_example_loads_and_pairs(tmp_path: Path) -> None:
    path = write_lines(
        tmp_path, line(**INVOKE), line(**OK),
        line(index=2, time=30, process="nemesis", type="info", f="start-partition",
             value={"n1": ["n3", "n4"]}),
        line(index=9, time=40, process=1, type="invoke", f="write", key="k1", value="1-4"),
        "",  # blank lines are skipped
        line(index=10, time=50, process=1, type="info", f="write", key="k1", value="1-4",
             error="timeout after 1.0s"),
        line(index=11, time=60, process=7, type="invoke", f="read", key="k1"),
    )
    history = load(path)
    assert [e.index for e in history.events] == [0, 1, 2, 9, 10, 11]
    assert history.events[1].version == (5, "n:n2:1")
    assert history.ops == [
        Op(0, 3, "write", "k1", "ok", "3-17", 10, 20, 1, (5, "n:n2:1"), "n2"),
        Op(9, 1, "write", "k1", "info", "1-4", 40, None, 10, None, None, "timeout after 1.0s"),
        Op(11, 7, "read", "k1", "info", None, 60, None),  # never completed
    ]
    assert history.source == str(path)


def test_standalone_quiesce_report_is_accepted(tmp_path: Path) -> None:
    path = write_lines(tmp_path, line(index=0, time=1, process="final", type="info", f="quiesce",
                                      value={"converged": True, "seconds": 1.5}))
    assert load(path).events[0].value == {"converged": True, "seconds": 1.5}


MALFORMED = [
    ("not json", '{"index": 0,', "not valid JSON"),
    ("not an object", "[1, 2]", "expected a JSON object"),
    ("missing index", line(**{**INVOKE, "index": ...}), "got missing"),
    ("negative index", line(**{**INVOKE, "index": -1}), "'index'"),
    ("string index", line(**{**INVOKE, "index": "0"}), "'index'"),
    ("bool index", line(**{**INVOKE, "index": True}), "'index'"),
    ("float time", line(**{**INVOKE, "time": 1.5}), "'time'"),
    ("missing time", line(**{**INVOKE, "time": ...}), "'time'"),
    ("null process", line(**{**INVOKE, "process": None}), "'process'"),
    ("bool process", line(**{**INVOKE, "process": False}), "'process'"),
    ("empty process", line(**{**INVOKE, "process": ""}), "'process'"),
    ("negative process", line(**{**INVOKE, "process": -2}), "'process'"),
    ("bad type", line(**{**INVOKE, "type": "done"}), "'type' must be one of"),
    ("missing f", line(**{**INVOKE, "f": ...}), "'f' must be a non-empty string"),
    ("numeric f", line(**{**INVOKE, "f": 3}), "'f'"),
    ("numeric key", line(**{**INVOKE, "key": 7}), "'key' must be a string or null"),
    ("numeric node", line(**{**INVOKE, "node": 2}), "'node'"),
    ("list error", line(**{**INVOKE, "error": ["x"]}), "'error'"),
    ("short version", line(**{**OK, "index": 0, "version": [1]}), "'version' must be"),
    ("swapped version", line(**{**OK, "index": 0, "version": ["n1", 1]}), "'version'"),
    ("string version", line(**{**OK, "index": 0, "version": "1:n1"}), "'version'"),
    ("bad utf-8", b'{"index": 0, "f": "\xff"}', "not valid JSON"),
]


@pytest.mark.parametrize(("text", "message"), [(t, m) for _, t, m in MALFORMED],
                         ids=[name for name, _, _ in MALFORMED])
def test_malformed_line_names_file_line_and_problem(tmp_path: Path, text: str | bytes,
                                                    message: str) -> None:
    good = line(index=0, time=0, process="nemesis", type="info", f="start")
    bad = text.replace('"index":0', '"index":1') if isinstance(text, str) else text
    path = write_lines(tmp_path, good, bad)
    with pytest.raises(HistoryError) as caught:
        load(path)
    assert str(caught.value).startswith(f"{path}:2: ")
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


PAIRING = [
    ("orphan completion", [OK], 1, "has no open invoke"),
    ("double invoke", [INVOKE, {**INVOKE, "index": 1}], 2, "again while its invoke at line 1"),
    ("f mismatch", [INVOKE, {**OK, "f": "read"}], 2, "does not match the invoke 'write'"),
    ("key mismatch", [INVOKE, {**OK, "key": "k2"}], 2, "on key 'k2' does not match"),
    ("index goes back", [{**INVOKE, "index": 5}, {**OK, "index": 5}], 2, "not greater than"),
]


@pytest.mark.parametrize(("events", "bad_line", "message"), [p[1:] for p in PAIRING],
                         ids=[p[0] for p in PAIRING])
def test_broken_pairing_is_rejected(tmp_path: Path, events: list[dict], bad_line: int,
                                    message: str) -> None:
    path = write_lines(tmp_path, *(line(**e) for e in events))
    with pytest.raises(HistoryError, match=message) as caught:
        load(path)
    assert str(caught.value).startswith(f"{path}:{bad_line}: ")


def test_writer_assigns_indexes_and_flushes_each_line(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    with HistoryWriter(path) as writer:
        first = writer.append({k: v for k, v in INVOKE.items() if k != "index"})
        assert first.index == 0
        assert len(path.read_bytes().splitlines()) == 1  # on disk before close: crash-safe
        second = writer.append({**OK, "index": 99})  # the writer's index wins
        assert second.index == 1 and second.version == (5, "n:n2:1")
    assert [e.index for e in load(path).events] == [0, 1]


def test_writer_rejects_a_bad_event_without_writing_it(tmp_path: Path) -> None:
    path = tmp_path / "history.jsonl"
    with HistoryWriter(path) as writer:
        with pytest.raises(HistoryError, match="'type' must be one of"):
            writer.append({**INVOKE, "type": "started"})
        assert writer.append(INVOKE).index == 0
    assert len(path.read_bytes().splitlines()) == 1


def test_dump_then_load_round_trips(tmp_path: Path) -> None:
    history = register_history(300, processes=6, keys=3, final_nodes=2, seed=5)
    dump(history, tmp_path / "h.jsonl")
    again = load(tmp_path / "h.jsonl")
    assert again.events == history.events
    assert again.ops == history.ops


def test_load_history_accepts_a_run_folder_and_detects_jsonl(tmp_path: Path) -> None:
    path = write_lines(tmp_path, line(**INVOKE), line(**OK))
    assert detect_format(path) == "jsonl"
    assert len(load_history(tmp_path).ops) == 1
    assert len(load_history(path, "jsonl").ops) == 1


@pytest.mark.parametrize(("setup", "message"), [
    ("missing", "no such file or folder"),
    ("empty-folder", "folder has no history.jsonl"),
    ("empty", "history is empty"),
    ("blank", "history is empty"),
    ("garbage", r"h\.jsonl:1: not valid JSON"),  # the extension says jsonl
])
def test_load_history_bad_paths_are_clear_errors(tmp_path: Path, setup: str,
                                                 message: str) -> None:
    target = tmp_path / "h.jsonl"
    if setup == "empty-folder":
        target = tmp_path
    elif setup != "missing":
        target.write_text({"empty": "", "blank": "\n \n", "garbage": "hello world\n"}[setup])
    with pytest.raises(HistoryError, match=message) as caught:
        load_history(target)
    assert str(target) in str(caught.value)


def test_content_decides_when_the_extension_does_not(tmp_path: Path) -> None:
    garbage = tmp_path / "h.dat"
    garbage.write_text("hello world\n")
    with pytest.raises(HistoryError, match="cannot tell the history format"):
        load_history(garbage)
    jsonl = tmp_path / "h.txt"
    jsonl.write_text(line(**INVOKE))
    assert load_history(jsonl).events[0].f == INVOKE["f"]


def test_explicit_format_on_an_empty_file_says_no_events(tmp_path: Path) -> None:
    (tmp_path / "h.jsonl").write_text("")
    with pytest.raises(HistoryError, match="no events"):
        load_history(tmp_path / "h.jsonl", "jsonl")


def test_unknown_format_is_rejected(tmp_path: Path) -> None:
    path = write_lines(tmp_path, line(**INVOKE))
    with pytest.raises(HistoryError, match="unknown format 'xml'"):
        load_history(path, "xml")


@pytest.mark.parametrize("wrong", ["edn", "jepsen-log", "porcupine-kv"])
def test_wrong_explicit_format_is_one_line_naming_the_file(tmp_path: Path, wrong: str) -> None:
    path = write_lines(tmp_path, line(**INVOKE), line(**OK))
    with pytest.raises(HistoryError) as caught:
        load_history(path, wrong)
    assert str(caught.value).startswith(f"{path}:")
    assert "\n" not in str(caught.value)
