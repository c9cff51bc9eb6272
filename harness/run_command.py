"""`quorumlab run`: run one test plan (or several) and check the history.

Exit codes: 0 valid, 1 invalid, 2 unknown, 254 bad arguments, 255 the harness
itself failed, 130 interrupted (Ctrl-C / SIGTERM; teardown done, history kept).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console

from checkers.exits import EXIT_BAD_INPUT, EXIT_HARNESS_FAILURE, EXIT_INTERRUPTED, worst
from harness.backends import docker_available
from harness.config import ConfigError, RunConfig
from harness.live import LiveProgress
from harness.outcome import RunOutcome
from harness.run_folder import create_run_folder
from harness.runner import Runner
from harness.summary import print_summary
from harness.systems.base import parse_system_opts
from harness.version import quorumlab_version
from nemesis.faults import TARGET_CHOICES, majority
from nemesis.kinds import DEFAULT_NEMESIS, check_capabilities, nemesis_help, parse_nemesis

EPILOG = """\
exit codes: 0 valid, 1 invalid, 2 unknown, 254 bad arguments, 255 harness failure
(also: --backend docker with no Docker daemon answering),
130 interrupted (cluster torn down, history kept, results marked incomplete).
Every run writes histories/<name>/<UTC timestamp>/ (config.json, history.jsonl,
results.json, nodes/*.log) and points histories/<name>/latest at it.
"""

DAEMON_DOWN = "no Docker daemon answers (check DOCKER_HOST or start dockerd)"
NO_DOCKER = f"{DAEMON_DOWN}, or use --backend local"


def no_docker(config: RunConfig) -> str:
    """Why no backend: a replica image cannot run locally, so do not advise it."""
    if config.replica_image is not None:
        return f"{DAEMON_DOWN}; --replica-image needs one"
    return NO_DOCKER


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    defaults = RunConfig()
    p = subparsers.add_parser(
        "run", help="run a test against a cluster and check it",
        description="Start a cluster, drive it with concurrent reads and writes while a "
                    "nemesis injects faults, then check the history.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_cluster_options(p)
    work = p.add_argument_group("workload")
    add_load_options(work, defaults.time_limit)
    work.add_argument("--keys", type=int, default=defaults.keys,
                      help="number of keys (default %(default)s)")
    work.add_argument("--cas-ratio", type=float, default=defaults.cas_ratio,
                      help="fraction of ops that are compare-and-sets, for systems with "
                           "cas (default %(default)s)")
    work.add_argument("--op-timeout", type=float, default=defaults.op_timeout,
                      help="client timeout per op, seconds (default %(default)s)")
    faults = p.add_argument_group("nemesis")
    add_nemesis_options(faults, "default")
    faults.add_argument("--seed", type=int, default=None,
                        help="seed of the workload and fault schedule (default: random; "
                             "recorded in config.json)")
    out = p.add_argument_group("output")
    out.add_argument("--test-count", type=int, default=defaults.test_count,
                     help="run the test this many times (default %(default)s)")
    out.add_argument("--name", default=defaults.name, help="test name (default %(default)s)")
    out.add_argument("--store-dir", default=defaults.store_dir,
                     help="where run folders go (default %(default)s)")
    out.add_argument("--quiesce-timeout", type=float, default=defaults.quiesce_timeout,
                     help="max seconds to wait for replicas to converge (default %(default)s)")
    out.add_argument("--replay", metavar="RUN", type=Path,
                     help="run the plan of an earlier run again (its folder or config.json): "
                          "every option and the seed come from there; other options are "
                          "ignored except --backend, --store-dir and --test-count")
    out.add_argument("--schedule", metavar="FILE", type=Path,
                     help="drive a local cluster through a `quorumlab sim` schedule "
                          "(schedule.json or its run folder) and say whether its anomaly "
                          "reproduced; the schedule decides the cluster, ops and faults")
    p.set_defaults(func=run_command)


def add_cluster_options(p: argparse.ArgumentParser) -> None:
    """The options that make a cluster (`run`, and `cluster up` for one that outlives
    its command); cluster_settings() reads them back."""
    defaults = RunConfig()
    cluster = p.add_argument_group("cluster")
    cluster.add_argument("--system", default=defaults.system, metavar="NAME",
                         help="the system under test (default %(default)s; "
                              "`quorumlab systems` lists them with their options)")
    cluster.add_argument("--system-opt", action="append", default=[], metavar="KEY=VALUE",
                         help="an option of the system (repeatable)")
    cluster.add_argument("--backend", choices=["auto", "local", "docker"], default="auto",
                         help="where nodes run: docker containers or local processes "
                              "(auto: docker when a daemon answers, else local)")
    cluster.add_argument("--nodes", type=int, default=defaults.nodes,
                         help="number of replica nodes (default %(default)s)")
    cluster.add_argument("--n", type=int, default=None,
                         help="replicas per key (default: every node)")
    cluster.add_argument("--r", type=int, default=None,
                         help="read quorum (default: a majority of n)")
    cluster.add_argument("--w", type=int, default=None,
                         help="write quorum (default: a majority of n)")
    cluster.add_argument("--allow-weak-quorum", action="store_true",
                         help="allow r + w <= n (not a quorum system: expect anomalies)")
    cluster.add_argument("--replica-bug", action="append", default=[], metavar="NAME",
                         help="switch on a bug of the reference replica on every node "
                              "(repeatable; see `python -m replica --help`)")
    cluster.add_argument("--replica-cmd", metavar="TEMPLATE",
                         help="start a third-party replica instead: a command template "
                              "with {id} {listen} {peers} {data_dir} {n} {r} {w}, each "
                              "filled in as one word, run without a shell "
                              "(run on this host: the local backend; in the "
                              "--replica-image on the docker backend)")
    cluster.add_argument("--replica-image", metavar="IMAGE",
                         help="run each node in this Docker image (docker backend; it must "
                              "be on this daemon): started with --replica-cmd if given, "
                              "else with its own entrypoint, told its place by QUORUMLAB_* "
                              "environment variables (README, \"Your replica as an image\")")
    cluster.add_argument("--anti-entropy-interval", type=float,
                         default=defaults.anti_entropy_interval,
                         help="seconds between a reference node's digest exchanges "
                              "(default %(default)s)")
    cluster.add_argument("--mode", choices=["coordinator", "client"], default=defaults.mode,
                      help="coordinator: a node fans out each op; client: the client fans "
                           "out from its home node's position (default %(default)s)")


def add_load_options(group: argparse._ArgumentGroup | argparse.ArgumentParser,
                     time_limit: float) -> None:
    """How hard and how long the workers push (`run`, and `load` on a live cluster)."""
    defaults = RunConfig()
    group.add_argument("--concurrency", type=int, default=defaults.concurrency,
                       help="concurrent client workers (default %(default)s)")
    group.add_argument("--rate", type=float, default=defaults.rate,
                       help="ops/s over all workers, 0 = unbounded (default %(default)s)")
    group.add_argument("--read-ratio", type=float, default=defaults.read_ratio,
                       help="fraction of the ops a worker picks that are reads; cross reads "
                            "come on top (default %(default)s)")
    group.add_argument("--cross-read-ratio", type=float, default=defaults.cross_read_ratio,
                       help="fraction of ok ops followed at once by a read of the same key "
                            "through another node (default %(default)s)")
    group.add_argument("--time-limit", type=float, default=time_limit,
                       help="seconds of workload (default %(default)s)")


def add_nemesis_options(group: argparse._ArgumentGroup | argparse.ArgumentParser,
                        nemesis: str) -> None:
    """The fault schedule (`run`, and `load` on a live cluster)."""
    default = (f"{DEFAULT_NEMESIS.replace(',', ', ')}: those that fit the cluster"
               if nemesis == "default" else "%(default)s")
    group.add_argument("--nemesis", default=nemesis,
                       help="comma list of fault kinds ("
                            + nemesis_help().replace("%", "%%")
                            + f"); or all, default, or none (default {default})")
    group.add_argument("--nemesis-interval", type=float, default=RunConfig().nemesis_interval,
                       help="mean seconds a fault lasts, jittered; heals last half as long "
                            "(default %(default)s)")
    group.add_argument("--nemesis-targets", choices=TARGET_CHOICES,
                       help="how many nodes a kill, pause or clock skew hits "
                            "(default: random choice)")


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """Build and validate the RunConfig; ConfigError/ValueError for bad values."""
    if args.replay is not None:
        config = replayed_config(args.replay, args.store_dir, args.test_count)
        if args.backend != "auto":
            config.backend = args.backend
        return config
    seed = args.seed if args.seed is not None else random_seed()
    config = RunConfig(
        **cluster_settings(args), concurrency=args.concurrency, keys=args.keys, rate=args.rate,
        read_ratio=args.read_ratio, cas_ratio=args.cas_ratio,
        cross_read_ratio=args.cross_read_ratio, time_limit=args.time_limit,
        op_timeout=args.op_timeout,
        nemesis=parse_nemesis(args.nemesis, args.nodes), nemesis_interval=args.nemesis_interval,
        nemesis_targets=args.nemesis_targets, seed=seed,
        quiesce_timeout=args.quiesce_timeout, test_count=args.test_count,
        store_dir=args.store_dir)
    config.validate()
    return config


def cluster_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The RunConfig fields that add_cluster_options() gave `args` (and the name)."""
    quorum = majority(args.n or args.nodes)  # the default r and w
    return dict(
        name=args.name, system=args.system, system_opts=parse_system_opts(args.system_opt),
        backend=args.backend, nodes=args.nodes, n=args.n,
        r=quorum if args.r is None else args.r, w=quorum if args.w is None else args.w,
        mode=args.mode, replica_bugs=args.replica_bug, replica_cmd=args.replica_cmd,
        replica_image=args.replica_image,
        allow_weak_quorum=args.allow_weak_quorum,
        anti_entropy_interval=args.anti_entropy_interval)


def random_seed() -> int:
    """A seed for a plan nobody gave one (recorded, so the plan can be replayed)."""
    return int.from_bytes(os.urandom(4), "big")


def replayed_config(run: Path, store_dir: str, test_count: int) -> RunConfig:
    """The config stored by an earlier run, with this invocation's output options."""
    path = run / "config.json" if run.is_dir() else run
    try:
        stored = orjson.loads(path.read_bytes())["config"]
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise ConfigError(f"--replay {run}: not a run folder or config.json ({exc})") from None
    # A run recorded before cross reads existed made none; replay it as it ran.
    return RunConfig.from_dict({"cross_read_ratio": 0.0, **stored, "store_dir": store_dir,
                                "test_count": test_count})


def run_command(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    if args.schedule is not None:
        from harness.schedule_run import run_schedule

        return run_schedule(args.schedule, args.name, args.store_dir, console)
    try:
        config = config_from_args(args)
    except (ConfigError, ValueError) as exc:
        sys.stderr.write(f"quorumlab run: error: {exc}\n")
        return EXIT_BAD_INPUT
    try:
        backend = choose_backend(config)
    except ConfigError as exc:
        sys.stderr.write(f"quorumlab run: error: {exc}\n")
        return EXIT_BAD_INPUT
    if backend is None:
        sys.stderr.write(f"quorumlab run: error: {no_docker(config)}\n")
        return EXIT_HARNESS_FAILURE
    try:  # before any cluster starts: a fault the backend cannot cause is a bad option
        check_capabilities(config.nemesis, config.make_system().offered_capabilities(backend),
                           f"{config.system} system on the {backend}")
    except ValueError as exc:
        sys.stderr.write(f"quorumlab run: error: {exc}\n")
        return EXIT_BAD_INPUT
    codes = []
    for attempt in range(config.test_count):
        run_config = config if attempt == 0 else RunConfig.from_dict(
            {**config.to_dict(), "seed": config.seed + attempt})
        outcome = run_one(run_config, backend, console)
        print_summary(console, outcome, run_config)
        codes.append(outcome.exit_code)
        if outcome.exit_code == EXIT_INTERRUPTED:
            break
    return worst(codes)


def choose_backend(config: RunConfig) -> str | None:
    """The backend this run uses; None when --backend docker has no daemon.

    auto means "it works": docker when a daemon answers and the replica image
    can be made ready (built now if missing), else local, with one line saying
    why. A named backend is taken as asked, so its failure stays an error.
    A --replica-image runs on docker only, and must be on the daemon already
    (ConfigError, one line, if not): the harness never pulls a user's image.
    """
    if config.backend == "local":
        return "local"
    if config.replica_image is not None:
        if not docker_available():
            return None
        _require_image(config.replica_image)
        return "docker"
    if config.backend == "docker":
        return "docker" if docker_available() else None
    backends = config.make_system().backends
    if len(backends) == 1:  # nowhere else to go: a missing daemon is the backend's error
        return backends[0] if backends[0] != "docker" or docker_available() else None
    if config.replica_cmd:  # a host command cannot run inside the replica image
        return "local"
    if not docker_available():
        return "local"
    import docker.errors

    from harness.backends.docker.bootstrap import ImageBuildError
    from harness.backends.docker.image import ensure_image
    from harness.backends.docker.resources import docker_error_line

    try:
        ensure_image()
    except (ImageBuildError, docker.errors.DockerException) as exc:
        reason = str(exc) if isinstance(exc, ImageBuildError) else docker_error_line(exc)
        sys.stderr.write(f"quorumlab run: warning: the docker backend is not ready ({reason}); "
                         "running on the local backend instead\n")
        return "local"
    return "docker"



def _require_image(name: str) -> None:
    """ConfigError (one line) unless the local Docker daemon has image ``name``."""
    import docker
    import docker.errors

    from harness.backends.docker.bootstrap import present_image
    from harness.backends.docker.resources import docker_error_line

    client = docker.from_env(timeout=30)
    try:
        if present_image(client, name) is None:
            raise ConfigError(f"--replica-image {name}: no such image on this Docker daemon "
                              "(build or load it first: the harness does not pull it)")
    except docker.errors.APIError as exc:  # e.g. an invalid reference
        raise ConfigError(f"--replica-image {name}: {docker_error_line(exc)}") from None
    finally:
        client.close()


def run_one(config: RunConfig, backend: str, console: Console, label: str | None = None,
            lines: bool = True) -> RunOutcome:
    """Run one test with SIGINT/SIGTERM turned into an orderly teardown, showing its
    progress live on a terminal; ``lines``: also its phases (and, off a terminal,
    progress lines)."""
    folder = create_run_folder(Path(config.store_dir), config.name)
    if lines:
        console.print(f"quorumlab {quorumlab_version()}: {label or config.name}, seed "
                      f"{config.seed}, {config.system} on the {backend} backend, "
                      f"{config.time_limit:g} s -> {folder.path}", highlight=False,
                      soft_wrap=True)
    with LiveProgress(console, config.time_limit, label or config.name, lines=lines) as live:
        runner = Runner(config, folder, backend, progress=live.phase, on_event=live.observe)
        return run_logged(runner, folder.path)


def run_logged(runner: Runner, folder: Path) -> RunOutcome:
    """Run ``runner`` to its outcome, with SIGINT/SIGTERM turned into an orderly
    teardown and the harness's log in ``folder``/harness.log."""
    with harness_log(folder / "harness.log"):
        return asyncio.run(_run_interruptibly(runner))


@contextlib.contextmanager
def harness_log(path: Path) -> Iterator[None]:
    """Send the harness's own log (tracebacks included) to the run folder, not the terminal."""
    logger = logging.getLogger("quorumlab")
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        handler.close()


async def _run_interruptibly(runner: Runner) -> RunOutcome:
    """The first SIGINT/SIGTERM stops the test in order (teardown, results); a
    second one exits at once, for a teardown that hangs."""
    loop = asyncio.get_running_loop()

    def interrupt() -> None:
        if runner.interrupted:
            sys.stderr.write("quorumlab run: interrupted again: exiting now; what the run "
                             "started is swept within seconds (nodes die with the harness, "
                             "the reaper removes containers)\n")
            os._exit(EXIT_INTERRUPTED)
        sys.stderr.write("quorumlab run: interrupted: tearing down (again to force)\n")
        runner.interrupt()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, interrupt)
    return await runner.run()
