"""`quorumlab check` on the external datasets reaches their known verdicts.

One CLI run per dataset folder (a folder of histories is the common case),
with the format and model guessed from the content. Skipped when
../shared/datasets is absent.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

REPO = Path(__file__).resolve().parents[2]
LINEARIZABLE_ETCD = {2, 5, 7, 18, 25, 31, 38, 45, 48, 49, 51, 53, 56, 67, 75, 76, 80, 87, 92,
                     98, 100, 101, 102}
EMPTY_ETCD = 95  # that run never started: its file is empty


def check_folder(folder: Path, *args: str) -> tuple[int, dict[str, object]]:
    proc = subprocess.run(
        [sys.executable, "-m", "checkers", "check", str(folder), "--json", *args],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    verdicts = {}
    for line in proc.stdout.splitlines():
        obj = orjson.loads(line)
        verdicts[Path(obj["path"]).name] = obj["verdict"]
    return proc.returncode, verdicts


@pytest.mark.slow
@pytest.mark.datasets
def test_etcd_jepsen_logs(datasets: Path) -> None:
    code, verdicts = check_folder(datasets / "porcupine" / "jepsen")
    expected = {f"etcd_{n:03d}.log": n in LINEARIZABLE_ETCD for n in range(103)}
    expected[f"etcd_{EMPTY_ETCD:03d}.log"] = None  # bad input: one clear error
    assert verdicts == expected
    assert code == 254  # the worst: the empty file


@pytest.mark.datasets
def test_porcupine_kv(datasets: Path) -> None:
    code, verdicts = check_folder(datasets / "porcupine" / "kv")
    assert verdicts == {f"c{n}-{kind}.txt": kind == "ok"
                        for n in ("01", "10", "50") for kind in ("ok", "bad")}
    assert code == 1


@pytest.mark.datasets
def test_jepsen_edn_samples_with_initial_zero(datasets: Path) -> None:
    code, verdicts = check_folder(datasets / "jepsen-edn-samples", "--initial", "0")
    assert verdicts == {"cas-register-bug.edn": True, "cas-failure.edn": False,
                        "immediate-failure.edn": False}
    assert code == 1
