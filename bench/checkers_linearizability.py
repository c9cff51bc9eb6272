"""Benchmark the linearizability checker on the external datasets.

1. All 102 etcd histories (Jepsen text logs, cas register): total wall time.
   Anchor: Porcupine (Go) decides all of them in about 0.7 s.
2. Porcupine's kv histories c50-ok and c50-bad (Porcupine: 0.34 s and 0.08 s).
3. Generated linearizable register histories (checkers.synth), unique values,
   5% info, 20 processes: 100k ops over 100 keys, and 20k ops on one key (the
   zones decide these; the general search alone runs out of time on the latter).

Loading is timed apart from checking. Each measurement is repeated and the
best and median runs are printed, since a shared machine is noisy.

    python bench/checkers_linearizability.py [--datasets DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from checkers.formats import jepsen_log, porcupine_kv
from checkers.history import History
from checkers.linearizability import check_linearizability
from checkers.synth import register_history

DEFAULT_DATASETS = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"
EMPTY_ETCD = "etcd_095.log"


Times = list[tuple[float, float]]  # (wall, CPU) seconds per run


def timed(action: Callable[[], Any], repeat: int) -> tuple[Times, Any]:
    """Wall and CPU times of ``repeat`` runs of ``action``, and its last result.

    CPU time is printed too because other work on a shared machine inflates
    wall time but hardly this process's CPU time.
    """
    times, result = [], None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        result = action()
        times.append((time.perf_counter() - wall, time.process_time() - cpu))
    return times, result


def report(name: str, times: Times, note: str) -> None:
    walls = [wall for wall, _ in times]
    cpu = min(cpu for _, cpu in times)
    print(f"{name:<30} wall best {min(walls):6.3f} s, median {statistics.median(walls):6.3f} s;"
          f" CPU best {cpu:6.3f} s  {note}")


def check_all(histories: list[History], model: str) -> list[Any]:
    return [check_linearizability(h, model=model, time_limit=60).valid for h in histories]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not args.datasets.is_dir():
        print(f"error: {args.datasets} is not a folder (pass --datasets)", file=sys.stderr)
        return 254
    print(f"machine: {os.cpu_count()} cores, {platform.platform()}, "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}")
    logs = args.datasets / "porcupine" / "jepsen"
    etcd_files = sorted(p for p in logs.glob("etcd_*.log") if p.name != EMPTY_ETCD)
    load_times, etcd = timed(lambda: [jepsen_log.load(p) for p in etcd_files], args.repeat)
    report(f"etcd load ({len(etcd)} files)", load_times, "")
    check_times, verdicts = timed(lambda: check_all(etcd, "cas-register"), args.repeat)
    valid = sum(v is True for v in verdicts)
    invalid = sum(v is False for v in verdicts)
    report(f"etcd check ({len(etcd)} files)", check_times,
           f"{valid} linearizable, {invalid} not, {len(verdicts) - valid - invalid} unknown")
    for name in ("c50-ok", "c50-bad"):
        path = args.datasets / "porcupine" / "kv" / f"{name}.txt"
        load_times, history = timed(lambda path=path: porcupine_kv.load(path), args.repeat)
        report(f"kv {name} load", load_times, "")
        check_times, (verdict,) = timed(lambda h=history: check_all([h], "kv"), args.repeat)
        report(f"kv {name} check", check_times, f"verdict {verdict}")
    for ops, keys in ((100_000, 100), (20_000, 1)):
        generated = register_history(ops, processes=20, keys=keys, info_rate=0.05, seed=1)
        check_times, (verdict,) = timed(
            lambda h=generated: check_all([h], "register"), args.repeat
        )
        report(f"generated {ops // 1000}k ops, {keys} key(s)", check_times, f"verdict {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
