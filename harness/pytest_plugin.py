"""quorumlab's pytest plugin (entry point ``pytest11``): regression suites for replicas.

    def test_valid_under_kills(quorumlab_cluster, quorumlab_run, assert_valid):
        assert_valid(quorumlab_run(quorumlab_cluster, time_limit=10, nemesis="kill"))

Fixtures:

- ``quorumlab_cluster``: a cluster started for the test and torn down after it,
  passed or failed. Its options are RunConfig's cluster fields (``nodes``,
  ``n``, ``r``, ``w``, ``system``, ``system_opts``, ``replica_bugs``,
  ``replica_cmd``, ``replica_image``, ``mode``, ``backend``...), given by the
  ``@pytest.mark.quorumlab(...)`` marker (module, class, then function: the
  nearest wins) and by indirect parametrisation
  (``@pytest.mark.parametrize("quorumlab_cluster", [{...}], indirect=True)``).
- ``quorumlab_run``: ``quorumlab_run(cluster, time_limit=10, nemesis="kill",
  **workload)`` runs the workload and nemesis against the cluster, heals it,
  runs the final phase and the checkers, and returns their Report
  (``report.verdict``); the run's folder is ``report.options["run"]``.
- ``assert_valid``: ``assert_valid(report)`` fails with the anomalies explained.

Options: ``--quorumlab-backend local|docker|auto`` (default local, so a suite
runs anywhere; CI can say docker), ``--quorumlab-seed N`` (default random; a
failure names its seed), ``--quorumlab-store-dir DIR`` (default: pytest's temp
folder) for where run folders go.

The cluster is torn down even when pytest is killed outright (see
harness/session/suite_cluster.py). Each run gets its own history. A cluster's
later runs use keys of their own (``r2-k0``...), since what earlier runs wrote
would be phantoms to a new history.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # the harness is imported only when a fixture is used: pytest starts fast
    from checkers.api import Report
    from harness.session.suite_cluster import QuorumlabCluster

SHOWN_ANOMALIES = 10


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("quorumlab", "quorumlab clusters and runs")
    group.addoption("--quorumlab-backend", choices=("local", "docker", "auto"), default="local",
                    help="where quorumlab_cluster runs nodes (default local)")
    group.addoption("--quorumlab-seed", type=int, default=None,
                    help="seed of every quorumlab run (default: random, named on failure)")
    group.addoption("--quorumlab-store-dir", default=None,
                    help="where quorumlab run folders go (default: pytest's temp folder)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "quorumlab(**options): options of the quorumlab_cluster fixture "
                   "(nodes, n, r, w, system, system_opts, replica_bugs, replica_cmd, "
                   "replica_image, mode, backend, ...)")


def _test_name(node: pytest.Item) -> str:
    """The test's name as a quorumlab name (letters, digits, . _ -; 64 at most)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", node.name).strip("-.")[:64] or "test"


def _cluster_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for mark in reversed(list(request.node.iter_markers("quorumlab"))):
        options.update(mark.kwargs)  # the nearest marker is the last applied
    options.update(getattr(request, "param", None) or {})
    return options


@pytest.fixture
def quorumlab_cluster(request: pytest.FixtureRequest,
                      tmp_path_factory: pytest.TempPathFactory) -> Iterator[QuorumlabCluster]:
    """A cluster for this test, torn down after it whatever happens."""
    from harness.config import ConfigError, RunConfig
    from harness.run_command import choose_backend, no_docker, random_seed
    from harness.session.suite_cluster import CLUSTER_FIELDS, QuorumlabCluster

    options = _cluster_options(request)
    unknown = sorted(set(options) - CLUSTER_FIELDS)
    if unknown:
        pytest.fail(f"quorumlab_cluster: unknown option(s) {', '.join(unknown)}; "
                    f"choose from {', '.join(sorted(CLUSTER_FIELDS))}", pytrace=False)
    backend_option = options.pop("backend", request.config.getoption("quorumlab_backend"))
    if options.get("replica_image") and backend_option == "local":
        pytest.skip(f"replica_image {options['replica_image']} runs on the docker backend, "
                    "not local (--quorumlab-backend)")
    seed = request.config.getoption("quorumlab_seed")
    try:
        config = RunConfig(**{"name": _test_name(request.node),
                              "seed": seed if seed is not None else random_seed(),
                              "backend": backend_option, **options})
        config.validate()
        system = config.make_system()
    except (ConfigError, ValueError, TypeError) as exc:
        pytest.fail(f"quorumlab_cluster: {exc}", pytrace=False)
    if backend_option != "auto" and backend_option not in system.backends:
        pytest.skip(f"the {config.system} system runs on the {' or '.join(system.backends)} "
                    f"backend, not {backend_option} (--quorumlab-backend)")
    try:
        backend = choose_backend(config)
    except ConfigError as exc:  # a replica_image the daemon does not have
        pytest.fail(f"quorumlab_cluster: {exc}", pytrace=False)
    if backend is None:
        pytest.fail(f"quorumlab_cluster: {no_docker(config)} (--quorumlab-backend)",
                    pytrace=False)
    stored = request.config.getoption("quorumlab_store_dir")
    store = Path(stored) if stored else tmp_path_factory.mktemp("quorumlab")
    cluster = QuorumlabCluster(config, backend, store)
    try:
        cluster.start()
    except Exception as exc:
        cluster.stop()
        pytest.fail(f"quorumlab_cluster: the cluster did not start: {exc}", pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def quorumlab_run() -> Callable[..., Report]:
    """``quorumlab_run(cluster, time_limit=10, nemesis="kill", **workload) -> Report``."""

    def run(cluster: QuorumlabCluster, time_limit: float = 10.0,
            nemesis: str | list[str] = "kill", **workload: Any) -> Report:
        return cluster.run(time_limit=time_limit, nemesis=nemesis, **workload)

    return run


def assert_valid(report: Report) -> None:
    """Fail unless every checker found the history valid, with each anomaly explained."""
    __tracebackhide__ = True
    if report.verdict is True:
        return
    run = report.options.get("run", {})
    verdict = "INVALID" if report.verdict is False else "UNKNOWN"
    lines = [f"quorumlab: the history is {verdict} (seed {run.get('seed')}, "
             f"run folder {run.get('folder', report.source)})"]
    for result in report.results:
        if result.valid is True:
            continue
        lines.append(f"{result.checker}: {'INVALID' if result.valid is False else 'UNKNOWN'}")
        for anomaly in result.anomalies[:SHOWN_ANOMALIES]:
            lines.append(f"  {anomaly.kind}: {anomaly.explanation}")
        if len(result.anomalies) > SHOWN_ANOMALIES:
            lines.append(f"  ... and {len(result.anomalies) - SHOWN_ANOMALIES} more "
                         "(results.json, report.html)")
        if not result.anomalies and result.details:
            lines.append(f"  {result.details}")
    raise AssertionError("\n".join(lines))


@pytest.fixture(name="assert_valid")
def assert_valid_fixture() -> Callable[[Report], None]:
    """:func:`assert_valid`, as a fixture (no import needed in a suite)."""
    return assert_valid
