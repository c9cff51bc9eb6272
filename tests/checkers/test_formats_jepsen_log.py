"""Jepsen's text log: parsing, detection, and one clear error per malformed line."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkers.errors import HistoryError
from checkers.formats import jepsen_log
from checkers.history import UNKNOWN_VALUE

LOG = """\
INFO  jepsen.util - 0\t:invoke\t:read\tnil
INFO  jepsen.util - 1\t:invoke\t:cas\t[1 4]
INFO  jepsen.util - 0\t:ok\t:read\tnil
INFO  jepsen.util - 1\t:info\t:cas\t:timed-out

INFO  jepsen.util - 6   :invoke :write  3
INFO  jepsen.util - 6   :ok     :write  3
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "history.log"
    path.write_text(text)
    return path


def test_loads_events_and_ops_with_line_order_as_time(tmp_path: Path) -> None:
    history = jepsen_log.load(write(tmp_path, LOG))
    assert [(e.index, e.time) for e in history.events] == [(i, i) for i in range(6)]
    read, cas, write_op = history.ops
    assert (read.f, read.type, read.value) == ("read", "ok", UNKNOWN_VALUE)  # not learned
    assert (cas.f, cas.type, cas.value, cas.complete_time) == ("cas", "info", [1, 4], None)
    assert history.events[3].error == "timed-out"
    assert (write_op.process, write_op.value, write_op.invoke_time) == (6, 3, 4)


def test_sniff_recognises_only_the_log(tmp_path: Path) -> None:
    assert jepsen_log.sniff("\n" + LOG)
    assert not jepsen_log.sniff('{:process 0, :type :invoke, :f :get, :key "1", :value nil}')
    assert not jepsen_log.sniff("[{:process 0, :type :invoke, :f :read}]")
    assert not jepsen_log.sniff("")


def test_loads_a_real_etcd_log(datasets: Path) -> None:
    path = datasets / "porcupine" / "jepsen" / "etcd_000.log"
    history = jepsen_log.load(path)
    assert len(history.events) == len(path.read_text().splitlines())
    assert {op.f for op in history.ops} == {"read", "write", "cas"}


def test_an_empty_log_is_an_empty_history(tmp_path: Path) -> None:
    assert jepsen_log.load(write(tmp_path, "")).events == []


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("WARN something else", "expected 'INFO jepsen.util"),
        ("INFO  jepsen.util - 0\t:invoke", "expected a process, a :type and a :f"),
        ("INFO  jepsen.util - x\t:invoke\t:read\tnil", "process 'x' is not an integer"),
        ("INFO  jepsen.util - 0\t:begin\t:read\tnil", "type ':begin'"),
        ("INFO  jepsen.util - 0\t:invoke\tread\tnil", "function 'read' is not a keyword"),
        ("INFO  jepsen.util - 0\t:invoke\t:write\tthree", "value 'three'"),
        ("INFO  jepsen.util - 0\t:invoke\t:cas\t[1 x]", "value 'x'"),
        ("INFO  jepsen.util - 5\t:ok\t:read\t3", "has no open invoke"),
        ("INFO  jepsen.util - 0\t:invoke\t:read\tnil", "invokes again"),
        ("INFO  jepsen.util - 0\t:ok\t:write\t1", "does not match the invoke"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path: Path, line: str, problem: str) -> None:
    path = write(tmp_path, "INFO  jepsen.util - 0\t:invoke\t:read\tnil\n\n" + line + "\n")
    with pytest.raises(HistoryError) as caught:
        jepsen_log.load(path)
    assert str(caught.value).startswith(f"{path}:3: ")
    assert problem in str(caught.value)


def test_unreadable_files_are_history_errors(tmp_path: Path) -> None:
    with pytest.raises(HistoryError, match="cannot read"):
        jepsen_log.load(tmp_path / "missing.log")
    binary = tmp_path / "binary.log"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(HistoryError, match="not UTF-8"):
        jepsen_log.load(binary)
