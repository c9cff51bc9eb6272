"""Jepsen EDN histories: both layouts, detection, errors with lines, and a writer
whose output reads back to an identical history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checkers.errors import HistoryError
from checkers.formats import edn
from checkers.history import UNKNOWN_VALUE, Event, History, pair_ops

VECTOR = """\
; a comment
[{:process 0, :type :invoke, :f :cas, :value [2 1]}
 {:process :nemesis,
  :type :info,
  :f :start,
  :value {"n1" ["n2" "n3"]}}
 {:process 0, :type :fail, :f :cas, :value [2 1], :error [:temporarily-unavailable nil]}
 {:process 1, :type :invoke, :f :write, :value 3}]
"""

LINES = """\
{:index 0, :time 100, :process 0, :type :invoke, :f :read, :key "k1", :value nil}
{:index 1, :time 250, :process 0, :type :ok, :f :read, :key "k1", :value 3, :version [2 "n1"]}
"""


def write(tmp_path: Path, text: str, name: str = "history.edn") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_loads_the_vector_layout(tmp_path: Path) -> None:
    history = edn.load(write(tmp_path, VECTOR))
    cas_invoke, nemesis, cas_fail, _ = history.events
    assert (cas_invoke.process, cas_invoke.f, cas_invoke.value) == (0, "cas", [2, 1])
    assert (nemesis.process, nemesis.value) == ("nemesis", {"n1": ["n2", "n3"]})
    assert cas_fail.error == "[:temporarily-unavailable nil]"
    assert [e.time for e in history.events] == [0, 1, 2, 3]  # no :time: position
    cas, open_write = history.ops
    assert (cas.type, cas.value) == ("fail", [2, 1])
    assert (open_write.type, open_write.complete_time) == ("info", None)


def test_loads_one_map_per_line_with_times(tmp_path: Path) -> None:
    history = edn.load(write(tmp_path, LINES))
    (read,) = history.ops
    assert (read.key, read.value, read.version) == ("k1", 3, (2, "n1"))
    assert (read.invoke_time, read.complete_time) == (100, 250)


def test_sniff() -> None:
    assert edn.sniff(VECTOR)
    assert edn.sniff(LINES)
    assert not edn.sniff('{:process 0, :type :invoke, :f :get, :key "1", :value nil}')
    assert not edn.sniff("INFO  jepsen.util - 0\t:invoke\t:read\tnil")
    assert not edn.sniff('{"index": 0}'[1:])


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("[{:process 0, :type :invoke, :f :read}\n {:process 1 :type}]", 2, "not valid EDN"),
        ("[{:process 0, :type :invoke, :f :read}\n 42]", 2, "expected an op map"),
        ("[{:process 0, :type :invoke, :f :read}\n {:process 1, :f :read}]", 2, "no :type"),
        ("[{:process 0, :type :invoke, :f :read}\n {:process 1, :type :x, :f :read}]", 2,
         ":type x"),
        ("[{:process 0, :type :invoke, :f :read}\n {:process 1.5, :type :invoke, :f :read}]", 2,
         ":process 1.5"),
        ("[{:process 0, :type :invoke, :f :read}\n {:process 0, :type :ok, :f :read,\n"
         "   :version [1 2]}]", 2, ":version"),
        ("[{:process 0, :type :invoke, :f :read, :time 5}\n {:process 0, :type :ok, :f :read}]",
         2, "no :time"),
        ("[{:process 0, :type :invoke, :f :read, :time 5}\n"
         " {:process 0, :type :ok, :f :read, :time 1.5}]", 2, ":time 1.5"),
        ("[{:process 0, :type :invoke, :f :read}\n {:process 0, :type :invoke, :f :read}]", 2,
         "invokes again"),
        ('[{:process 0, :type :invoke, :f :read}\n {:process 1, :type :ok, :f :read,\n'
         ' :value "a\nb"}\n {:process 2, :type :ok, :f :read}]', 2, "has no open invoke"),
    ],
)
def test_malformed_history_names_file_and_line(
    tmp_path: Path, text: str, line: int, problem: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(HistoryError) as caught:
        edn.load(path)
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert problem in str(caught.value)


def test_an_unclosed_form_is_reported_on_the_line_it_starts(tmp_path: Path) -> None:
    path = write(tmp_path, "[{:process 0, :type :invoke, :f :read}\n {:process 1,\n :type :ok")
    with pytest.raises(HistoryError, match=f"^{path}:2: not valid EDN"):
        edn.load(path)


@pytest.mark.parametrize("name", ["cas-register-bug", "cas-failure", "immediate-failure"])
def test_samples_round_trip(datasets: Path, tmp_path: Path, name: str) -> None:
    original = edn.load(datasets / "jepsen-edn-samples" / f"{name}.edn")
    edn.dump(original, tmp_path / "out.edn")
    again = edn.load(tmp_path / "out.edn")
    assert again.events == original.events
    assert again.ops == original.ops


scalars = st.one_of(
    st.none(), st.integers(-(2**40), 2**40), st.text(max_size=8), st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                max_size=3),
    max_leaves=6,
)


@st.composite
def histories(draw: Any) -> History:
    events: list[Event] = []
    open_processes: set[Any] = set()
    pool: list[Any] = [0, 1, 7, "nemesis", "final", "odd process"]
    time = 0
    for _ in range(draw(st.integers(0, 12))):
        time += draw(st.integers(0, 10**9))
        process = draw(st.sampled_from(pool))
        if process == "nemesis":
            kind = "info"
        elif process in open_processes:
            kind = draw(st.sampled_from(["ok", "fail", "info"]))
            open_processes.discard(process)
            if kind == "info":  # as in Jepsen, the thread goes on under a new id
                pool[pool.index(process)] = 100 + len(events)
        else:
            kind = "invoke"
            open_processes.add(process)
        previous = [e for e in events if e.process == process]
        f = previous[-1].f if kind != "invoke" and previous else draw(
            st.sampled_from(["read", "write", "cas", "final-read", "start-partition"]))
        key = previous[-1].key if kind != "invoke" and previous else draw(
            st.none() | st.sampled_from(["k1", "k 2", ""]))
        value = draw(values)
        if kind == "ok" and f == "read" and value is None:
            value = UNKNOWN_VALUE  # what EDN's nil read means
        events.append(Event(
            index=len(events), time=time, process=process, type=kind, f=f, key=key,
            value=value,
            version=draw(st.none() | st.tuples(st.integers(0, 99), st.text(max_size=6))),
            node=draw(st.none() | st.sampled_from(["n1", "n2"])),
            error=draw(st.none() | st.text(max_size=10)),
        ))
    return History(events=events, ops=pair_ops(events))


@settings(max_examples=25, deadline=None)
@given(histories())
def test_any_history_round_trips(tmp_path_factory: Any, history: History) -> None:
    path = tmp_path_factory.mktemp("edn") / "h.edn"
    edn.dump(history, path)
    again = edn.load(path)
    assert again.events == history.events
    assert again.ops == history.ops
