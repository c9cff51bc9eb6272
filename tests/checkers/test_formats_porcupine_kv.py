"""Porcupine's kv format: parsing, detection, and one clear error per malformed line."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkers.errors import HistoryError
from checkers.formats import porcupine_kv

KV = """\
{:process 0, :type :invoke, :f :append, :key "4", :value "x 0 3 y"}
{:process 1, :type :invoke, :f :get, :key "4", :value nil}
{:process 0, :type :ok, :f :append, :key "4", :value "x 0 3 y"}

{:process 1, :type :ok, :f :get, :key "4", :value "x \\"q\\" y"}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kv.txt"
    path.write_text(text)
    return path


def test_loads_events_and_ops(tmp_path: Path) -> None:
    history = porcupine_kv.load(write(tmp_path, KV))
    assert [(e.index, e.time) for e in history.events] == [(i, i) for i in range(4)]
    append, get = history.ops
    assert (append.f, append.key, append.value, append.type) == ("append", "4", "x 0 3 y", "ok")
    assert (get.f, get.value, get.invoke_time, get.complete_time) == ("get", 'x "q" y', 1, 3)


def test_sniff_recognises_only_the_kv_format() -> None:
    assert porcupine_kv.sniff(KV)
    assert not porcupine_kv.sniff("[{:process 0, :type :invoke, :f :read, :value nil}]")
    assert not porcupine_kv.sniff("{:process 0, :type :invoke, :f :read, :value nil}")
    assert not porcupine_kv.sniff("INFO  jepsen.util - 0\t:invoke\t:read\tnil")


def test_loads_a_real_kv_history(datasets: Path) -> None:
    history = porcupine_kv.load(datasets / "porcupine" / "kv" / "c10-ok.txt")
    assert {op.key for op in history.ops} == {str(k) for k in range(10)}
    assert all(op.type == "ok" for op in history.ops)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (':process 2, :type :invoke, :f :get, :key "1"', "expected one map"),
        ('{:process 2 :type :invoke, :f :get, :key "1"}', "cannot read a ':field value'"),
        ("{:process 2, :type :invoke, :f :get}", "missing :key"),
        ('{:process "2", :type :invoke, :f :get, :key "1"}', ":process '2' is not an integer"),
        ('{:process 2, :type :begin, :f :get, :key "1"}', ":type 'begin'"),
        ('{:process 2, :type :invoke, :f :cas, :key "1"}', ":f 'cas' is not :get"),
        ('{:process 2, :type :invoke, :f :get, :key 1}', ":key 1 is not a string"),
        ('{:process 2, :type :invoke, :f :put, :key "1", :value 5}', ":value 5"),
        ('{:process 2, :type :invoke, :f :get, :key "1", :key "2"}', "appears twice"),
        ('{:process 2, :type :invoke, :f :put, :key "1", :value "\\x"}', "bad string"),
        ('{:process 7, :type :ok, :f :get, :key "1", :value ""}', "has no open invoke"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path: Path, line: str, problem: str) -> None:
    path = write(tmp_path, '{:process 0, :type :invoke, :f :get, :key "1", :value nil}\n' + line)
    with pytest.raises(HistoryError) as caught:
        porcupine_kv.load(path)
    assert str(caught.value).startswith(f"{path}:2: ")
    assert problem in str(caught.value)
