"""`quorumlab fault`'s words: a negative amount is a word, not an option."""

from __future__ import annotations

import pytest

from harness.cli import build_parser, main


@pytest.mark.parametrize("offset", ["-30s", "-1.5s", "-.5s", "-500ms", "-30"])
def test_a_negative_offset_needs_no_double_dash(offset: str) -> None:
    args = build_parser("fault").parse_args(
        ["fault", "clock-skew", "n1", offset, "n2", "+30s", "--name", "lab"])
    assert args.words == ["n1", offset, "n2", "+30s"]
    assert args.name == "lab"


def test_an_unknown_option_is_still_one(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["fault", "clock-skew", "n1", "-x"])
    assert exited.value.code == 254
    assert "unrecognized arguments: -x" in capsys.readouterr().err


def test_the_negative_offset_reaches_the_cluster_lookup(
        tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["fault", "clock-skew", "n1", "-30s", "--store-dir", str(tmp_path)])
    assert code == 254
    assert "no live cluster" in capsys.readouterr().err
