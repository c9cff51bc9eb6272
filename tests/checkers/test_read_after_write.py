"""The read-after-write checker: what an S3 store such as Garage claims, no more.

Tested both ways: the histories it must reject, the ones it must accept though
linearizability rejects them (a write in progress seen, then missed; two
concurrent writes seen in either order), and real Jepsen histories: every one
Knossos calls linearizable must pass, since linearizability implies it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from checkers.api import check
from checkers.read_after_write import check_read_after_write
from tests.checkers.history_builder import Builder
from tests.checkers.test_check_datasets import LINEARIZABLE_ETCD, check_folder


def test_a_read_older_than_a_write_acknowledged_before_it_began_is_stale() -> None:
    b = Builder()
    first = b.op(1, "write", "k", "a")
    second = b.op(2, "write", "k", "b")  # began after "a" was acknowledged
    read = b.op(3, "read", "k", "a")
    result = check_read_after_write(b.history())
    assert result.valid is False
    (anomaly,) = result.anomalies
    assert anomaly.kind == "stale-read" and anomaly.ops == [read, first, second]
    assert "requires 'b' or a newer value" in anomaly.explanation


def test_nothing_read_after_an_acknowledged_write_is_stale_and_an_unwritten_value_a_phantom(
        ) -> None:
    b = Builder()
    b.op(1, "write", "k", "a")
    b.op(2, "read", "k", None)
    b.op(3, "read", "k", "zz")
    kinds = [a.kind for a in check_read_after_write(b.history()).anomalies]
    assert kinds == ["stale-read", "phantom"]


def test_a_write_in_progress_seen_then_missed_is_allowed_though_not_linearizable() -> None:
    b = Builder()
    b.op(1, "write", "k", "a")
    b.invoke(2, "write", "k", "b")  # in progress throughout
    b.op(3, "read", "k", "b")  # one replica already has it
    b.op(4, "read", "k", "a")  # the next read's replicas do not: no read repair
    b.complete(2)
    history = b.history()
    assert check_read_after_write(history).valid is True
    assert check(history, checkers=["linearizability"]).verdict is False


def test_concurrent_writes_may_be_read_in_either_order() -> None:
    b = Builder()
    b.invoke(1, "write", "k", "a")
    b.invoke(2, "write", "k", "b")
    b.complete(1)
    b.complete(2)
    b.op(3, "read", "k", "b")
    b.op(4, "read", "k", "a")  # a later read may not flip back under linearizability
    assert check_read_after_write(b.history()).valid is True


def test_an_unacknowledged_write_may_take_effect_any_time() -> None:
    b = Builder()
    b.op(1, "write", "k", "a", type="info")
    b.op(2, "write", "k", "b")
    b.op(3, "read", "k", "a")  # "a" may have landed after "b", with a newer stamp
    assert check_read_after_write(b.history()).valid is True


def test_a_failed_write_did_not_happen() -> None:
    b = Builder()
    b.op(1, "write", "k", "a", type="fail")
    b.op(2, "read", "k", "a")
    assert [a.kind for a in check_read_after_write(b.history()).anomalies] == ["phantom"]


@pytest.mark.slow
@pytest.mark.datasets
def test_every_history_knossos_calls_linearizable_passes(datasets: Path) -> None:
    _, verdicts = check_folder(datasets / "porcupine" / "jepsen",
                               "--checkers", "read-after-write")
    linearizable = {f"etcd_{n:03d}.log" for n in LINEARIZABLE_ETCD}
    assert {name: verdicts[name] for name in linearizable} == dict.fromkeys(linearizable, True)
