"""report.html for stored valid and invalid histories: its structure, not its looks
(the looks were checked by eye in a browser)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from checkers.api import check
from checkers.history import History, Op
from checkers.result import Anomaly, CheckResult
from harness.check_command import check_page
from harness.cli import main
from harness.report import render_report
from harness.timeline import MAX_OPS, KeyOps, Timeline, draw
from harness.version import quorumlab_version
from tests.harness.stored_runs import HISTORIES, make_run, stored


def anomaly_blocks(page: str) -> list[str]:
    return re.findall(r"<div class='anomaly'.*?</div>", page, flags=re.S)


def named_ops(block: str) -> set[int]:
    return {int(n) for n in re.findall(r'<g class="op named" data-op="(\d+)"', block)}


def fault_rows(page: str) -> list[str]:
    return re.findall(r"<tr class='fault'>(.*?)</tr>", page, flags=re.S)


def test_an_invalid_run_report_draws_each_anomaly_with_its_ops(tmp_path: Path) -> None:
    folder = make_run(tmp_path, "stale-read.jsonl", "stale")
    page = (folder / "report.html").read_text()
    assert "<title>stale: INVALID</title>" in page
    assert f"quorumlab run --replay {folder} --backend local" in page
    assert "<th>seed</th><td>7</td>" in page and quorumlab_version() in page
    assert "src='data:image/png;base64," in page, "plots embedded"
    assert not re.search(r"""(src|href)=['"](https?:|//)""", page), "nothing from a network"
    assert "<script" not in page
    blocks = anomaly_blocks(page)
    stale = [b for b in blocks if "data-kind='stale-read'" in b]
    assert len(stale) == 1
    assert "read #10 (k1) returned &#x27;0-1&#x27;" in stale[0]
    assert named_ops(stale[0]) == {8, 10}, "the read and the write it missed, outlined"
    assert 'data-op="4"' not in stale[0], "an op of another key is not drawn"
    assert "<g class=\"fault\">" in stale[0], "the partition shaded behind the ops"
    lin = [b for b in blocks if "data-kind='nonlinearizable'" in b]
    assert len(lin) == 1 and "(unplaceable)" in lin[0] and 'stroke="#b00020"' in lin[0]


def test_the_faults_table_has_every_fault_of_the_run(tmp_path: Path) -> None:
    page = (make_run(tmp_path, "stale-read.jsonl", "stale") / "report.html").read_text()
    rows = fault_rows(page)
    assert len(rows) == 2
    partition, kill = rows
    assert "partition-halves" in partition and "n1, n2, n3, n4, n5" in partition
    assert "<b>no</b></span>: n1-&gt;n3 answered though cut" in partition
    assert ">0.10 s<" in partition and ">0.40 s<" in partition
    assert "kill" in kill and ">n3<" in kill and "not probed" in kill
    assert "2 faults probed" not in page and "1 faults probed" in page
    assert "1 did not take effect" in page


def test_a_valid_run_report_has_statistics_and_no_anomaly(tmp_path: Path) -> None:
    page = (make_run(tmp_path, "valid.jsonl", "fine") / "report.html").read_text()
    assert "<title>fine: valid</title>" in page
    assert not anomaly_blocks(page)
    counts = re.search(r"<table class='counts'>(.*?)</table>", page, flags=re.S)
    assert counts is not None
    assert re.search(r"<td>read</td><td class='num'>4</td><td class='num'>1</td>"
                     r"<td class='num'>0</td>", counts.group(1))
    assert re.search(r"<td>write</td><td class='num'>4</td><td class='num'>0</td>"
                     r"<td class='num'>1</td>", counts.group(1))
    assert "<table class='latency'>" in page
    # 10 client ops: 6 invoked during the partition or the kill (an info and a fail
    # among them), 4 before or after, all ok.
    assert "<td>outside every fault</td><td class='num'>100.0% of 4</td>" in page
    assert "<td>during some fault</td><td class='num'>66.7% of 6</td>" in page


def test_a_linearizability_failure_shows_the_prefix_and_the_unplaceable_op() -> None:
    history = stored("register.edn")
    page = render_report(check_page(HISTORIES / "register.edn", "edn", history,
                                    check(history)))
    (block,) = anomaly_blocks(page)
    assert "could not be placed" in block
    assert re.search(r"#4 \(unplaceable\)", block), "the read of 1 after 2 was written"
    assert re.search(r"#0 \(prefix 1\).*#2 \(prefix 2\)", block, flags=re.S)
    assert named_ops(block) == {0, 2, 4}
    assert ">1: W 1<" in block and ">2: W 2<" in block, "bars numbered in prefix order"


def test_a_crowded_key_is_capped_and_says_so() -> None:
    ops = [Op(i, i % 7, "write", "k", "ok", f"v{i}", i * 1000, i * 1000 + 50_000)
           for i in range(500)]
    drawn = draw(Timeline(KeyOps(ops), named=[250, 260]))
    assert drawn.shown == MAX_OPS and drawn.nearby > MAX_OPS
    assert 'data-op="250"' in drawn.svg and 'data-op="260"' in drawn.svg
    history = History(events=[], ops=ops)
    anomaly = Anomaly("stale-read", "k", "made up", ops=[250, 260])
    from checkers.api import Report
    page = render_report(check_page(Path("x.jsonl"), "jsonl", history,
                                    Report([CheckResult("graph", False, [anomaly])])))
    assert f"{MAX_OPS} ops of this key drawn (the nearest to the named ones;" in page


def test_check_report_writes_the_page_for_an_imported_edn_history(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "edn.html"
    assert main(["check", str(HISTORIES / "register.edn"), "--report", str(out)]) == 1
    page = out.read_text()
    assert "register.edn: INVALID" in page and "nonlinearizable" in page
    assert f"--report {out}" in page, "the command that makes it again"


def test_the_quorumlab_command_writes_the_report_before_it_ends_the_process(
        tmp_path: Path) -> None:
    """The console entry point ends `check` at once after the last history
    (checkers.cli.exit_at_once); with --report the page must still be written."""
    out = tmp_path / "edn.html"
    done = subprocess.run([sys.executable, "-m", "harness", "check",
                           str(HISTORIES / "register.edn"), "--report", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "nonlinearizable" in out.read_text()


def test_check_report_refuses_several_histories_and_an_unwritable_path(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    edn = str(HISTORIES / "register.edn")
    assert main(["check", edn, edn, "--report", str(tmp_path / "r.html")]) == 254
    assert "--report needs exactly one history; 2 were given" in capsys.readouterr().err
    assert main(["check", edn, "--report", str(tmp_path / "no" / "r.html")]) == 254
    err = capsys.readouterr().err
    assert err.strip().endswith("No such file or directory") and "Traceback" not in err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"quorumlab {quorumlab_version()}"
