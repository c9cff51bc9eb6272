"""The cluster the pytest plugin's ``quorumlab_cluster`` fixture gives a test.

A LiveCluster on an event loop of its own, in a thread that lives exactly as
long as the cluster: the local backend's nodes die with the thread that
started them (PR_SET_PDEATHSIG) and the docker backend's containers name this
process as owner, so a pytest killed outright still leaves nothing behind.
Runs go through the harness's own Runner (``run_against``), one history each.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from checkers.api import Report
from harness.config import RunConfig
from harness.run_folder import create_run_folder
from harness.runner import Runner
from harness.session.live import LiveCluster
from harness.workload import key_names
from nemesis.kinds import check_capabilities, parse_nemesis

T = TypeVar("T")
RUN_FIELDS = {"name", "time_limit", "nemesis", "test_count", "store_dir"}
CLUSTER_FIELDS = {f.name for f in dataclasses.fields(RunConfig)} - RUN_FIELDS
"""What the marker may set: the cluster, and defaults for its runs' workload."""
WORKLOAD_FIELDS = {"concurrency", "keys", "rate", "read_ratio", "cas_ratio",
                   "cross_read_ratio", "op_timeout",
                   "nemesis_interval", "nemesis_targets", "seed", "quiesce_timeout"}
"""What one run may change (``quorumlab_run(cluster, **workload)``)."""


class _LoopThread:
    """An event loop running in a thread of its own until closed."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True,
                                        name="quorumlab-cluster")
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


class QuorumlabCluster:
    """What ``quorumlab_cluster`` gives a test: a started cluster, and runs against it."""

    def __init__(self, config: RunConfig, backend: str, store: Path) -> None:
        self.config = config
        self.backend_name = backend
        self.store = store
        self.runs = 0
        folder = create_run_folder(store, f"{config.name}-cluster")
        self._live = LiveCluster(config, backend, folder, f"ql-{uuid.uuid4().hex[:10]}")
        self._thread = _LoopThread()

    @property
    def nodes(self) -> tuple[str, ...]:
        return self.config.node_ids

    def addresses(self) -> dict[str, str]:
        """Each node's public API (for a test that talks to the nodes itself)."""
        return self._live.addresses()

    def start(self) -> None:
        self._thread.run(self._live.start())

    def stop(self) -> None:
        try:
            self._thread.run(self._live.stop())
        finally:
            self._thread.close()

    def run(self, time_limit: float = 10.0, nemesis: str | list[str] = "kill",
            **workload: Any) -> Report:
        """One test run on this cluster (workload, nemesis, heal, final phase,
        checkers); its Report. ValueError (one line) for a bad option."""
        kinds = parse_nemesis(nemesis, self.config.nodes) if isinstance(nemesis, str) \
            else list(nemesis)
        not_workload = sorted(set(workload) - WORKLOAD_FIELDS)
        if not_workload:
            raise ValueError(f"quorumlab_run: {', '.join(not_workload)} is no workload option "
                             f"(those: {', '.join(sorted(WORKLOAD_FIELDS))}); cluster options "
                             "go to @pytest.mark.quorumlab(...)")
        config = RunConfig.from_dict({**self.config.to_dict(), "time_limit": time_limit,
                                      "nemesis": kinds, **workload})
        check_capabilities(kinds, self._live.system.offered_capabilities(self.backend_name),
                           f"{config.system} system on the {self.backend_name}")
        self.runs += 1
        keys = key_names(config.keys)
        if self.runs > 1:
            keys = [f"r{self.runs}-{key}" for key in keys]
        folder = create_run_folder(self.store, config.name)
        runner = Runner(config, folder, self.backend_name, keys=keys)
        outcome = self._thread.run(runner.run_against(self._live.backend, self._live.client))
        if outcome.report is None:
            raise RuntimeError(f"quorumlab run gave no verdict: {outcome.error} "
                               f"(history in {folder.path})")
        outcome.report.options["run"] = {"folder": str(folder.path), "seed": config.seed}
        return outcome.report
