"""Benchmark `quorumlab check` as a user runs it: the whole command, process start included.

1. A generated 1M-op register history (unique values, 100 keys, 20 processes,
   5% info; checkers.synth), written as history.jsonl: every checker that
   applies (graph, linearizability, stats). Wall time, CPU time and peak RSS.
2. The 102 etcd histories of ../shared/datasets/porcupine/jepsen/ in one
   process (the folder). Reference: Porcupine's own `go test` on the same
   files, 0.45 s on this machine as issue 9 reports it (Go is not installed
   here to re-measure).

Each command runs --repeat times; best and median wall are printed, since the
machine is shared. It runs `python -m harness check` in the checkout --repo
(default: this one), so that a before and after can be measured side by side.
The history is generated in a child of its own, so that no run inherits the
generator's memory.

    python bench/checkers_command.py [--ops 1000000] [--repeat 3] [--repo DIR] [--datasets DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from checkers.formats.jsonl import dump  # noqa: E402
from checkers.synth import register_history  # noqa: E402

DEFAULT_DATASETS = REPO.parent / "shared" / "datasets"


def run_check(repo: Path, *args: str) -> tuple[float, float, float, int]:
    """(wall s, CPU s, peak RSS MiB, exit code) of one `python -m harness check`."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "harness", "check", *args], cwd=repo,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)  # this child's own usage, not all children's
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, child.returncode


def report(name: str, runs: list[tuple[float, float, float, int]]) -> None:
    walls = [run[0] for run in runs]
    print(f"| {name} | {min(walls):.2f} | {statistics.median(walls):.2f} | "
          f"{min(run[1] for run in runs):.2f} | {max(run[2] for run in runs):.0f} | "
          f"{runs[-1][3]} |", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--datasets", type=Path, default=DEFAULT_DATASETS)
    parser.add_argument("--repo", type=Path, default=REPO, help="checkout to measure")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args()
    if args.generate:
        dump(register_history(args.ops, processes=20, keys=100, info_rate=0.05, seed=1),
             args.generate)
        return 0
    print(f"machine: {os.cpu_count()} cores, {platform.platform()}, "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}; "
          f"measuring {args.repo}")
    print("| command | wall best (s) | wall median (s) | CPU best (s) | peak RSS (MiB) | exit |")
    print("|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.jsonl"
        subprocess.run([sys.executable, __file__, "--ops", str(args.ops), "--generate", str(path)],
                       check=True)
        report(f"check {args.ops:,}-op history.jsonl",
               [run_check(args.repo, str(path)) for _ in range(args.repeat)])
    etcd = args.datasets / "porcupine" / "jepsen"
    if etcd.is_dir():
        report("check porcupine/jepsen/ (102 etcd logs)",
               [run_check(args.repo, str(etcd), "--json") for _ in range(args.repeat)])
    else:
        print(f"({etcd} absent: etcd histories skipped)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
