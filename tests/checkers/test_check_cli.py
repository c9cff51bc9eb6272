"""`quorumlab check` end to end: exit codes (worst over all paths), --json, folders."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from checkers.formats.jsonl import dump
from checkers.synth import register_history
from tests.checkers.history_builder import Builder

REPO = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m checkers check``: the same parser ``quorumlab check`` registers."""
    return subprocess.run([sys.executable, "-m", "checkers", "check", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {name: tmp_path / f"{name}.jsonl" for name in ("valid", "invalid", "unknown")}
    dump(register_history(200, final_nodes=3, seed=4), paths["valid"])
    stale = Builder()
    stale.op(1, "write", "k", "a", version=(1, "n1"))
    stale.op(1, "write", "k", "b", version=(2, "n1"))
    stale.op(2, "read", "k", "a", version=(1, "n1"))
    dump(stale.history(), paths["invalid"])
    twice = Builder()  # the same value written twice: reads cannot be attributed
    twice.op(1, "write", "k", "a", version=(1, "n1"))
    twice.op(1, "write", "k", "a", version=(2, "n1"))
    twice.op(2, "read", "k", "a", version=(2, "n1"))
    dump(twice.history(), paths["unknown"])
    paths["bad"] = tmp_path / "bad.jsonl"
    paths["bad"].write_text('{"index": 0, "time": 0, "process": 1, "type": "ok"}\n')
    return paths


@pytest.mark.parametrize(("names", "code"), [
    (["valid"], 0), (["unknown"], 2), (["valid", "unknown"], 2),
    (["unknown", "invalid", "valid"], 1),
    (["invalid", "bad", "valid"], 254),
])
def test_exit_code_is_the_worst_over_all_histories(files: dict[str, Path], names: list[str],
                                                   code: int) -> None:
    proc = run(*(str(files[n]) for n in names), "--checkers", "graph,stats")
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    for name in names:
        assert str(files[name]) in proc.stdout + proc.stderr


def test_summary_explains_the_anomaly(files: dict[str, Path]) -> None:
    proc = run(str(files["invalid"]))
    assert proc.returncode == 1
    assert "INVALID" in proc.stdout
    assert ("stale-read [k]: the store's version order contradicts real time: "
            "read #4 (k)") in proc.stdout


def test_bad_history_is_one_line_naming_file_and_line(files: dict[str, Path]) -> None:
    proc = run(str(files["bad"]))
    assert proc.returncode == 254
    assert proc.stderr.count("\n") == 1
    assert f"{files['bad']}:1: 'f' must be a non-empty string" in proc.stderr


def test_json_prints_one_object_per_history(files: dict[str, Path]) -> None:
    proc = run(str(files["valid"]), str(files["invalid"]), str(files["bad"]), "--json")
    assert proc.returncode == 254
    objects = [orjson.loads(line) for line in proc.stdout.splitlines()]
    assert [(o["path"], o["verdict"]) for o in objects] == [
        (str(files["valid"]), True), (str(files["invalid"]), False), (str(files["bad"]), None)]
    assert "durability" in [r["checker"] for r in objects[0]["results"]]
    assert objects[2]["error"].startswith(f"{files['bad']}:1:")


def test_a_time_past_2_to_the_62_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "far.jsonl"
    b = Builder()
    b.op(1, "write", "k", "a", version=(1, "n1"))
    history = b.history()
    history.events[-1].time = 2**62
    dump(history, path)
    proc = run(str(path))
    assert proc.returncode == 254
    assert proc.stderr.strip().splitlines() == [
        f"quorumlab check: error: {path}: an op's completion time is 2^62 or more"]


def test_ending_the_process_at_once_still_runs_atexit_and_flushes(
        files: dict[str, Path]) -> None:
    # the command ends with os._exit (checkers.cli.exit_at_once): nothing a
    # normal exit does may be lost, output buffered in Python included
    script = ("import atexit, sys; atexit.register(lambda: print('atexit ran'));"
              "from checkers.__main__ import main;"
              f"main(['check', {str(files['invalid'])!r}, '--json'], exit_process=True);"
              "print('not reached')")
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 1
    *reports, last = proc.stdout.splitlines()
    assert [orjson.loads(line)["verdict"] for line in reports] == [False]
    assert last == "atexit ran"


@pytest.mark.parametrize("module", ["checkers", "harness"])
def test_a_reader_that_closed_stdout_ends_it_quietly(files: dict[str, Path],
                                                    module: str) -> None:
    """`quorumlab check --json | head`: exit 120 (what Python exits with when stdout
    is gone), with no traceback."""
    proc = subprocess.Popen([sys.executable, "-m", module, "check", str(files["valid"]),
                             str(files["invalid"]), "--json"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the first line is written
    stderr = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 120
    assert "Traceback" not in stderr


@pytest.mark.slow
def test_folders_of_histories_and_run_folders(tmp_path: Path,
                                                        files: dict[str, Path]) -> None:
    run_folder = tmp_path / "runs" / "t1" / "20260101T000000Z"
    run_folder.mkdir(parents=True)
    (run_folder / "history.jsonl").write_bytes(files["invalid"].read_bytes())
    proc = run(str(run_folder), "--json")
    assert proc.returncode == 1
    assert orjson.loads(proc.stdout)["path"] == str(run_folder / "history.jsonl")
    files["bad"].unlink()
    proc = run(str(tmp_path), "--json", "--checkers", "graph,stats")
    checked = [orjson.loads(line)["path"] for line in proc.stdout.splitlines()]
    assert checked == [str(tmp_path / f"{n}.jsonl") for n in ("invalid", "unknown", "valid")] + [
        str(run_folder / "history.jsonl")]
    assert proc.returncode == 1


@pytest.mark.parametrize("args", [
    ["--time-limit", "0"], ["--checkers", "graph,nope"], ["--model", "queue"], [],
])
def test_bad_flags_are_one_line_exit_254(files: dict[str, Path], args: list[str]) -> None:
    paths = [str(files["valid"])] if args else []
    proc = run(*paths, *args)
    assert proc.returncode == 254
    assert proc.stderr.count("\n") == 1, proc.stderr


@pytest.mark.parametrize("path", ["/no/such/history.jsonl", "EMPTYDIR"])
def test_missing_paths_are_bad_input(tmp_path: Path, path: str) -> None:
    proc = run(str(tmp_path) if path == "EMPTYDIR" else path)
    assert proc.returncode == 254
    assert proc.stderr.count("\n") == 1


def _torn(path: Path, cut: int) -> bytes:
    """Cut the file ``cut`` bytes into its last line, as a crash mid-write would."""
    data = path.read_bytes()
    last_line_start = data.rstrip(b"\n").rfind(b"\n") + 1
    return data[:last_line_start + cut]


def test_a_torn_last_line_is_ignored_with_one_warning(files: dict[str, Path],
                                                     tmp_path: Path) -> None:
    torn = tmp_path / "torn.jsonl"
    torn.write_bytes(_torn(files["valid"], 17))
    lines = torn.read_bytes().count(b"\n") + 1
    proc = run(str(torn))
    assert proc.returncode == 0, proc.stderr
    warnings = [text for text in proc.stderr.splitlines() if "warning" in text]
    assert warnings == [f"quorumlab check: warning: {torn}:{lines}: the final line was torn "
                        "(cut off while being written) and is ignored"]
    stale = tmp_path / "stale-torn.jsonl"  # what comes before the torn line is still checked
    stale.write_bytes(files["invalid"].read_bytes() + b'{"index": 99, "ti')
    proc = run(str(stale))
    assert proc.returncode == 1
    assert "stale-read" in proc.stdout
    assert "torn" in proc.stderr


def test_a_malformed_line_in_the_middle_stays_an_error(files: dict[str, Path],
                                                      tmp_path: Path) -> None:
    lines = files["valid"].read_bytes().splitlines(keepends=True)
    broken = tmp_path / "broken.jsonl"
    broken.write_bytes(b"".join([*lines[:5], lines[5][:17] + b"\n", *lines[6:]]))
    proc = run(str(broken))
    assert proc.returncode == 254
    assert proc.stderr.strip().splitlines() == [
        proc.stderr.strip()]  # one line
    assert f"{broken}:6: not valid JSON" in proc.stderr
    assert "EDN" not in proc.stderr
