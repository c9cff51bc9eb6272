"""Systems by name: the built-in ones, a user's through the entry point (the
README's example, run as written), and refusals before anything starts."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from system_helpers import REPO, latest_run, quorumlab

TINY_STORE = Path(__file__).with_name("tiny_store.py")


def readme_example() -> str:
    """The README's system example, exactly as a user would copy it."""
    text = (REPO / "README.md").read_text()
    after = text[text.index("<!-- system-example"):]
    # Fenced as "py": tests/checkers/test_user_models.py runs the one "python" block.
    return re.search(r"```py\n(.*?)```", after, re.S).group(1)


def install_example(tmp_path: Path, target: str = "mystore:MyStore") -> Path:
    """mystore.py plus the dist-info an installed package would have."""
    site = tmp_path / "site"
    (site / "mystore-0.1.dist-info").mkdir(parents=True)
    (site / "mystore.py").write_text(readme_example())
    (site / "mystore-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: mystore\nVersion: 0.1\n")
    (site / "mystore-0.1.dist-info" / "entry_points.txt").write_text(
        f"[quorumlab.systems]\nmystore = {target}\n")
    return site


def test_systems_lists_builtin_ones_with_options_backends_nemeses_and_ops() -> None:
    proc = quorumlab("systems")
    assert proc.returncode == 0, proc.stderr
    blocks = {block.split(":")[0]: block for block in re.split(r"\n(?=\S)", proc.stdout)}
    assert {"http", "maelstrom", "etcd", "garage"} <= set(blocks)
    assert "--system-opt reads=...:" in blocks["etcd"] and "backend docker" in blocks["etcd"]
    assert "ops: read, write\n" in blocks["http"] + "\n"
    assert "ops: read, write, cas" in blocks["maelstrom"]
    assert "--system-opt bin=...:" in blocks["maelstrom"]
    local = next(line for line in blocks["maelstrom"].splitlines() if "backend local" in line)
    assert "partition-halves" in local and "clock-skew" not in local
    assert "clock-skew" in blocks["http"]
    # Each system says whether a clock skew reaches it: libfaketime moves Garage
    # (Rust, through libc), not etcd (Go reads the clock without libc).
    assert "clock-skew: refused" in blocks["etcd"] and "Go program" in blocks["etcd"]
    garage = next(line for line in blocks["garage"].splitlines() if "backend docker" in line)
    assert "clock-skew" in garage and "refused" not in blocks["garage"]


def test_readme_example_system_is_found_by_entry_point_and_checked(tmp_path: Path) -> None:
    site = install_example(tmp_path)
    listed = quorumlab("systems", pythonpath=(site,))
    assert listed.returncode == 0, listed.stderr
    assert "mystore: MyStore, one process per node" in listed.stdout
    cmd = f"{sys.executable} {TINY_STORE} --listen {{listen}}"
    for nodes, verdict in ((1, 0), (3, 1)):  # one node is a register; three disagree
        store = tmp_path / f"runs{nodes}"
        proc = quorumlab("run", "--system", "mystore", "--system-opt", f"cmd={cmd}",
                         "--backend", "local", "--nodes", str(nodes),
                         "--nemesis", "none", "--time-limit", "2", "--keys", "2",
                         "--store-dir", str(store), "--seed", "5", pythonpath=(site,))
        assert proc.returncode == verdict, proc.stderr
        events, results = latest_run(store)
        oks = {e["f"] for e in events if e["type"] == "ok" and e["process"] != "final"}
        assert oks == {"read", "write"}
        assert results["valid"] is (verdict == 0)


def test_unloadable_system_is_one_line_and_exit_254(tmp_path: Path) -> None:
    site = install_example(tmp_path, target="mystore:NoSuchClass")
    listed = quorumlab("systems", pythonpath=(site,))
    assert listed.returncode == 254
    assert "mystore: unavailable:" in listed.stdout
    proc = quorumlab("run", "--system", "mystore", pythonpath=(site,))
    assert proc.returncode == 254 and proc.stderr.count("\n") == 1, proc.stderr
    assert "cannot be loaded" in proc.stderr


def test_what_a_system_cannot_do_is_refused_before_anything_starts(tmp_path: Path) -> None:
    program = f"bin={sys.executable}"
    refusals = {
        ("--system", "nope"): "unknown system 'nope'",
        ("--system-opt", "colour"): "write KEY=VALUE",
        ("--system-opt", "colour=red"): "has no such option",
        ("--cas-ratio", "0.2"): "has no cas",
        ("--system", "maelstrom"): "needs --system-opt bin=",
        ("--system", "maelstrom", "--system-opt", "bin=./no-such-program"):
            "no such executable program",
        ("--system", "maelstrom", "--system-opt", program, "--backend", "docker"):
            "runs on the local backend",
        ("--system", "maelstrom", "--system-opt", program, "--nemesis", "clock-skew"):
            "needs clock control",
        ("--system", "maelstrom", "--system-opt", program, "--replica-bug", "amnesia"):
            "applies only to the http system",
        ("--system", "etcd", "--nodes", "4"): "an etcd cluster here has 1, 3, 5, 7 members",
        ("--system", "etcd", "--system-opt", "reads=eventual"):
            "choose from linearizable, serializable",
        ("--system", "etcd", "--nemesis", "clock-skew"):
            "clock skew cannot reach the etcd system (etcd is a Go program",
        ("--system", "garage", "--system-opt", "consistency=eventual"):
            "choose from consistent, degraded, dangerous",
        ("--system", "garage", "--system-opt", "replication=4", "--nodes", "3",
         "--nemesis", "kill"):
            "replication=4: a whole number of copies from 1 to --nodes (3)",
        ("--system", "garage", "--backend", "local"): "runs on the docker backend",
    }
    for args, message in refusals.items():
        proc = quorumlab("run", "--store-dir", str(tmp_path), *args)
        assert proc.returncode == 254, (args, proc.stderr)
        assert proc.stderr.count("\n") == 1 and message in proc.stderr, (args, proc.stderr)
    assert not any(tmp_path.iterdir())  # nothing started, nothing written
