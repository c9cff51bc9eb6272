"""The pytest plugin, run by pytest's own pytester in a subprocess, as a suite uses it."""

from __future__ import annotations

import orjson
import pytest

from tests.session.session_helpers import processes_mentioning

pytest_plugins = ["pytester"]

CLUSTER = "pytestmark = pytest.mark.quorumlab(nodes=3, r=2, w=2)\n"


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    store = pytester.path / "runs"
    return pytester.runpytest_subprocess("-p", "no:cacheprovider",
                                         f"--quorumlab-store-dir={store}", *args)


def test_options_and_marker_are_registered(pytester: pytest.Pytester) -> None:
    help_text = pytester.runpytest_subprocess("--help")
    help_text.stdout.fnmatch_lines(["*--quorumlab-backend*", "*--quorumlab-seed*"])
    markers = pytester.runpytest_subprocess("--markers")
    markers.stdout.fnmatch_lines(["@pytest.mark.quorumlab(**options)*"])


def test_bad_options_fail_in_one_line_before_a_cluster_starts(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        "import pytest\n"
        "@pytest.mark.quorumlab(nodez=3)\n"
        "def test_typo(quorumlab_cluster):\n    pass\n"
        "@pytest.mark.quorumlab(nodes=3, r=1, w=1)\n"
        "def test_weak(quorumlab_cluster):\n    pass\n")
    result = _run(pytester)
    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(["*quorumlab_cluster: unknown option(s) nodez*",
                                 "*quorumlab_cluster: r + w = 2 <= n = 3*"])


def test_a_replica_image_on_the_local_backend_is_skipped_saying_why(
        pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        "import pytest\n"
        "@pytest.mark.quorumlab(nodes=3, replica_image='my-replica:1')\n"
        "def test_mine(quorumlab_cluster):\n    pass\n")
    result = _run(pytester, "-rs", "--quorumlab-backend=local")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["*replica_image my-replica:1 runs on the docker backend, "
                                 "not local*"])


@pytest.mark.slow
def test_valid_runs_pass_and_leave_nothing(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        "import pytest\n" + CLUSTER +
        "@pytest.mark.parametrize('quorumlab_cluster', [{'mode': 'client'}], indirect=True)\n"
        "def test_two_runs(quorumlab_cluster, quorumlab_run, assert_valid):\n"
        "    assert quorumlab_cluster.config.mode == 'client'\n"
        "    assert set(quorumlab_cluster.addresses()) == {'n1', 'n2', 'n3'}\n"
        "    first = quorumlab_run(quorumlab_cluster, time_limit=2, nemesis='kill',\n"
        "                          nemesis_interval=0.5)\n"
        "    assert_valid(first)\n"
        "    second = quorumlab_run(quorumlab_cluster, time_limit=2, nemesis='none')\n"
        "    assert_valid(second)\n"
        "    assert first.options['run']['folder'] != second.options['run']['folder']\n")
    result = _run(pytester, "--quorumlab-seed=41")
    result.assert_outcomes(passed=1)
    store = pytester.path / "runs"
    runs_dir = store / "test_two_runs-quorumlab_cluster0"
    configs = sorted(runs_dir.glob("2*/config.json"))
    assert len(configs) == 2, "one folder per run"
    assert list((store / f"{runs_dir.name}-cluster").glob("2*/nodes/n1.log")), "cluster logs"
    runs = [orjson.loads(path.read_bytes()) for path in configs]
    assert [run["config"]["seed"] for run in runs] == [41, 41]
    assert [run["config"]["nemesis"] for run in runs] == [["kill"], []]
    histories = [orjson.loads(line) for line in
                 (configs[-1].parent / "history.jsonl").read_bytes().splitlines()]
    assert {e["key"] for e in histories if "key" in e} <= {"r2-k0", "r2-k1", "r2-k2"}
    assert not processes_mentioning(str(store))


@pytest.mark.slow
def test_a_bug_fails_with_its_anomalies_explained(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        "import pytest\n" + CLUSTER +
        "@pytest.mark.quorumlab(replica_bugs=['local-version'])\n"
        "def test_buggy(quorumlab_cluster, quorumlab_run, assert_valid):\n"
        "    assert_valid(quorumlab_run(quorumlab_cluster, time_limit=3, nemesis='none'))\n")
    result = _run(pytester, "--quorumlab-seed=7")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*quorumlab: the history is INVALID (seed 7, run folder *",
                                 "*graph: INVALID*"])
    assert any(kind in result.stdout.str() for kind in
               ("version-collision", "lost-write", "stale-read", "non-monotonic-read"))
    assert not processes_mentioning(str(pytester.path / "runs")), "torn down after a failure"
