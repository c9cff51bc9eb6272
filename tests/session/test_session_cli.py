"""Bad input to the session commands: one line, a documented exit code, no cluster."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.cli import main
from harness.kv_command import parse_value


@pytest.mark.parametrize("argv", [
    ["kv", "get", "k1"],
    ["kv", "put", "k1", "3"],
    ["fault", "kill", "n2"],
    ["fault", "heal"],
    ["load", "--time-limit", "1"],
    ["cluster", "status"],
    ["cluster", "check"],
    ["cluster", "down", "--name", "nothing"],
])
def test_no_cluster_is_exit_254_in_one_line(tmp_path: Path, argv: list[str],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*argv, "--store-dir", str(tmp_path)]) == 254
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error:" in err and "cluster" in err


@pytest.mark.parametrize(("argv", "message"), [
    (["cluster", "up", "--nodes", "0"], "--nodes must be between 1 and 32"),
    (["cluster", "up", "--nodes", "3", "--r", "1", "--w", "1"], "r + w = 2 <= n = 3"),
    (["cluster", "up", "--name", "a/b"], "--name 'a/b'"),
])
def test_bad_cluster_options_are_refused_before_anything_starts(
        tmp_path: Path, argv: list[str], message: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*argv, "--backend", "local", "--store-dir", str(tmp_path)]) == 254
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir()), "nothing recorded for a refused cluster"


def test_fault_kinds_are_the_nemesis_kinds(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["fault", "explode"])
    assert exited.value.code == 254
    assert "invalid choice: 'explode'" in capsys.readouterr().err


def test_values_are_json_else_strings() -> None:
    assert parse_value('"a"') == "a"
    assert parse_value("3") == 3
    assert parse_value('{"x": [1]}') == {"x": [1]}
    assert parse_value("hello") == "hello"
