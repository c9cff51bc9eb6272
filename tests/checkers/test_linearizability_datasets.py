"""Real histories from ../shared/datasets reach the verdicts their README gives
(recorded by Jepsen, decided by Porcupine and Knossos)."""

from __future__ import annotations

from pathlib import Path

import pytest

from checkers.formats import edn, jepsen_log, porcupine_kv
from checkers.linearizability import check_linearizability

LINEARIZABLE_ETCD = frozenset(
    f"{n:03d}"
    for n in (2, 5, 7, 18, 25, 31, 38, 45, 48, 49, 51, 53, 56, 67, 75, 76, 80, 87, 92, 98,
              100, 101, 102)
)
EMPTY_ETCD = "095"  # that run never started
ETCD = [f"{n:03d}" for n in range(103) if f"{n:03d}" != EMPTY_ETCD]
KV = ["c01-ok", "c01-bad", "c10-ok", "c10-bad", "c50-ok", "c50-bad"]
EDN = {"cas-register-bug": True, "cas-failure": False, "immediate-failure": False}


@pytest.mark.parametrize("number", ETCD)
def test_etcd_history_verdict(datasets: Path, number: str) -> None:
    history = jepsen_log.load(datasets / "porcupine" / "jepsen" / f"etcd_{number}.log")
    result = check_linearizability(history, model="cas-register", time_limit=30)
    assert result.valid is (number in LINEARIZABLE_ETCD)
    if result.valid is False:
        (anomaly,) = result.anomalies
        assert "could not be placed" in anomaly.explanation


@pytest.mark.parametrize("name", KV)
def test_porcupine_kv_verdict(datasets: Path, name: str) -> None:
    history = porcupine_kv.load(datasets / "porcupine" / "kv" / f"{name}.txt")
    result = check_linearizability(history, model="kv", time_limit=30)
    assert result.valid is name.endswith("-ok")


def test_porcupine_kv_c01_bad_blames_the_get_on_line_60(datasets: Path) -> None:
    history = porcupine_kv.load(datasets / "porcupine" / "kv" / "c01-bad.txt")
    (anomaly,) = check_linearizability(history, model="kv").anomalies
    assert anomaly.key == "7"
    blocker = history.events[anomaly.details["blocker"]]
    assert (blocker.f, blocker.key, blocker.index + 1) == ("get", "7", 59)  # its invoke


@pytest.mark.parametrize("name", sorted(EDN))
def test_jepsen_edn_sample_verdict(datasets: Path, name: str) -> None:
    history = edn.load(datasets / "jepsen-edn-samples" / f"{name}.edn")
    result = check_linearizability(history, model="cas-register", initial=0)
    assert result.valid is EDN[name]
