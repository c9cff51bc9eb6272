"""`quorumlab cluster up|status|down|check`: a cluster that outlives its command.

`up` records the cluster in a run folder and starts its supervisor
(harness/session/supervisor.py), a detached process that owns it; the other
session commands (`fault`, `kv`, `load`) talk to that supervisor.

Exit codes: 0 done (check: valid), 1 check: invalid, 2 check: unknown,
254 bad arguments or no such cluster, 255 the cluster or its supervisor failed
(or no Docker daemon for --backend docker), 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from rich.console import Console

from checkers.exits import EXIT_BAD_INPUT, EXIT_HARNESS_FAILURE
from harness.config import RunConfig
from harness.owner import Owner
from harness.run_command import (
    add_cluster_options,
    choose_backend,
    cluster_settings,
    no_docker,
    random_seed,
)
from harness.run_folder import create_run_folder
from harness.session.control import (
    REQUEST_TIMEOUT_S,
    Unreachable,
    add_lookup_options,
    call,
    live,
    lookup,
    session_command,
)
from harness.session.display import counts_text, fault_text, final_text
from harness.session.state import SessionState, find_cluster, register, unregister

UP_TIMEOUT_S = 600.0  # a first docker cluster may build its image (minutes)
EXIT_WAIT_S = 30.0

WALKTHROUGH = """\
a five-minute session (README "Exploring a cluster by hand"):
  quorumlab cluster up --backend local --nodes 5     # prints nodes and addresses
  quorumlab kv put k1 '"hello"'                      # VALUE is JSON, else a string
  quorumlab kv get k1 --node n4
  quorumlab fault partition-isolate n3               # cut n3 off; the cut is probed
  quorumlab kv get k1 --node n3                      # n3 alone has no read quorum: fail
  quorumlab fault kill n2
  quorumlab load --time-limit 20                     # the run's workload, live counts
  quorumlab cluster status                           # nodes, faults, op counts
  quorumlab fault heal                               # every fault undone
  quorumlab cluster check                            # checkers on the history so far
  quorumlab cluster check --final                    # heal, converge, read every copy,
                                                     # then check, durability included
  quorumlab cluster down                             # everything removed, history kept

exit codes: 0 done (check: valid), 1 check: invalid, 2 check: unknown,
254 bad arguments or no such cluster, 255 cluster or supervisor failure, 130 interrupted.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "cluster", help="start, inspect, check and stop a cluster that outlives the command",
        description="A cluster for exploring by hand: `up` starts it and returns, leaving "
                    "a supervisor process that owns it; `fault`, `kv` and `load` act on "
                    "it; every op and fault goes into the session's history.",
        epilog=WALKTHROUGH, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    up_parser = actions.add_parser(
        "up", help="start a cluster and its supervisor; print its nodes",
        description="Start a cluster that stays up after this command returns.",
        epilog=WALKTHROUGH, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_cluster_options(up_parser)
    defaults = RunConfig()
    session = up_parser.add_argument_group("session")
    session.add_argument("--name", default="session",
                         help="the cluster's name (default %(default)s)")
    session.add_argument("--store-dir", default=defaults.store_dir,
                         help="where the session folder goes (default %(default)s)")
    session.add_argument("--keys", type=int, default=defaults.keys,
                         help="keys `quorumlab load` uses (default %(default)s: k0..)")
    session.add_argument("--op-timeout", type=float, default=defaults.op_timeout,
                         help="client timeout per op, seconds (default %(default)s)")
    session.add_argument("--quiesce-timeout", type=float, default=defaults.quiesce_timeout,
                         help="max seconds `cluster check --final` waits for replicas to "
                              "converge (default %(default)s)")
    session.add_argument("--seed", type=int, default=None,
                         help="seed of faults chosen at random and of loads (default: random)")
    up_parser.set_defaults(func=up)

    for name, func, text in (("status", status, "show nodes, faults in effect and op counts"),
                             ("down", down, "tear the cluster down (the history stays)"),
                             ("check", check_session,
                              "check the session's history so far; write its report")):
        action = actions.add_parser(name, help=text, description=text[0].upper() + text[1:] + ".")
        add_lookup_options(action)
        if name == "status":
            action.add_argument("--json", action="store_true", help="print the status as JSON")
        if name == "check":
            action.add_argument(
                "--final", action="store_true",
                help="first run a run's final phase on the live cluster, recorded in its "
                     "history: heal every fault, wait for the replicas to converge, read "
                     "every key the session used on each of its replicas and by quorum; "
                     "so durability and convergence are judged too (the cluster stays up)")
        action.set_defaults(func=func)


@session_command("cluster up")
def up(args: argparse.Namespace) -> int:
    seed = args.seed if args.seed is not None else random_seed()
    config = RunConfig(**cluster_settings(args), keys=args.keys, op_timeout=args.op_timeout,
                       quiesce_timeout=args.quiesce_timeout, seed=seed,
                       store_dir=args.store_dir)
    config.validate()
    store = Path(config.store_dir).resolve()
    with contextlib.suppress(LookupError):
        existing = find_cluster(store, config.name)
        if existing.live():
            sys.stderr.write(f"quorumlab cluster up: error: cluster {config.name} is already up "
                             f"(`quorumlab cluster down --name {config.name}` first)\n")
            return EXIT_BAD_INPUT
    backend = choose_backend(config)
    if backend is None:
        sys.stderr.write(f"quorumlab cluster up: error: {no_docker(config)}\n")
        return EXIT_HARNESS_FAILURE
    folder = create_run_folder(store, config.name)
    run_id = f"ql-{uuid.uuid4().hex[:10]}"
    folder.write_json("config.json", {"config": config.to_dict(), "backend": backend,
                                      "run_id": run_id})
    SessionState(name=config.name, folder=folder.path, backend=backend, run_id=run_id).write()
    register(store, config.name, folder.path)
    console = Console(stderr=True)
    console.print(f"[dim]·[/dim] starting {config.nodes} nodes ({backend} backend)")
    with (folder.path / "supervisor.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "harness.session.supervisor", str(folder.path)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True)
    try:
        state = _wait_up(folder.path, process)
    except KeyboardInterrupt:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(EXIT_WAIT_S)
        raise
    if state.state != "up":
        sys.stderr.write(f"quorumlab cluster up: error: {state.error}; see "
                         f"{folder.path}/harness.log\n")
        return EXIT_HARNESS_FAILURE
    print(f"cluster {state.name} up: {_shape(config, backend)}, supervisor pid {state.pid}")
    for node, url in state.nodes.items():
        print(f"  {node}  {url}")
    print(f"history: {folder.history}")
    return 0


def _wait_up(folder: Path, process: subprocess.Popen[bytes]) -> SessionState:
    """The state once the supervisor reports up or failed, or dies (bounded)."""
    deadline = time.monotonic() + UP_TIMEOUT_S
    while True:
        state = SessionState.read(folder)
        if state.state in ("up", "failed", "down"):
            return state
        if process.poll() is not None:
            log = (folder / "supervisor.log").read_text(errors="replace").strip().splitlines()
            state.error = (f"the supervisor exited with {process.returncode}"
                           + (f": {log[-1]}" if log else ""))
            return state
        if time.monotonic() > deadline:
            process.terminate()
            state.error = f"the cluster was not up after {UP_TIMEOUT_S:.0f}s"
            return state
        time.sleep(0.1)


def _shape(config: RunConfig, backend: str) -> str:
    quorums = (f", n={config.replication} r={config.r} w={config.w}"
               if config.system == "http" else "")
    return f"{backend} backend, {config.nodes} nodes, system {config.system}{quorums}"


@session_command("cluster status")
def status(args: argparse.Namespace) -> int:
    answer = call(live(lookup(args)), "GET", "/status")
    if args.json:
        import orjson

        print(orjson.dumps(answer, option=orjson.OPT_INDENT_2).decode())
        return 0
    config = RunConfig.from_dict(answer["config"])
    load = f", load running ({answer['load']:g}s)" if answer["load"] is not None else ""
    print(f"cluster {answer['name']}: {_shape(config, answer['backend'])}, up "
          f"{answer['uptime']:.0f}s, supervisor pid {answer['pid']}{load}")
    for node in answer["nodes"]:
        print(f"  {node['node']}  {node['state']:<13} {node['url']}")
    faults = answer["faults"]
    print("faults: " + ("; ".join(fault_text(f) for f in faults) if faults else "none"))
    print(f"ops: {counts_text(answer['ops'])}")
    print(f"history: {answer['folder']}/history.jsonl ({answer['events']} events)")
    return 0


@session_command("cluster down")
def down(args: argparse.Namespace) -> int:
    state = lookup(args)
    store = Path(args.store_dir).resolve()
    if state.live():
        try:
            call(state, "POST", "/down")
        except Unreachable as exc:  # a stuck supervisor: it goes, and all it owns with it
            sys.stderr.write(f"quorumlab cluster down: {exc}; stopping it\n")
            _wait_exit(state, asked=False)
        else:
            _wait_exit(state, asked=True)
    elif state.backend == "docker":
        _sweep_docker(state.run_id)  # the reaper would too; do not make the user wait
    unregister(store, state.name)
    state = SessionState.read(state.folder)
    if state.state != "down":
        state.state = "down"
        state.write()
    print(f"cluster {state.name} down; its history stays in {state.folder}")
    return 0


def _wait_exit(state: SessionState, asked: bool) -> None:
    """Let the supervisor exit (``asked``: it was told to); a stuck one is
    terminated, then killed (it owns everything, so everything goes with it)."""
    owner = Owner.from_label(state.owner or "")
    for sig in (None, signal.SIGTERM, signal.SIGKILL)[0 if asked else 1:]:
        if owner is None or not owner.alive():
            return
        if sig is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(owner.pid, sig)
        deadline = time.monotonic() + EXIT_WAIT_S
        while owner.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
    if state.backend == "docker":
        _sweep_docker(state.run_id)


def _sweep_docker(run_id: str) -> None:
    import docker
    import docker.errors

    from harness.backends.docker.resources import remove_labelled

    with contextlib.suppress(docker.errors.DockerException):
        remove_labelled(docker.from_env(timeout=60), run_id)


@session_command("cluster check")
def check_session(args: argparse.Namespace) -> int:
    import orjson

    from checkers.formats import load_history
    from harness.outcome import RunOutcome
    from harness.results import write_results
    from harness.run_folder import RunFolder
    from harness.runner import check_run_history
    from harness.summary import print_summary

    state = lookup(args)
    folder = RunFolder(state.folder)
    config = RunConfig.from_dict(orjson.loads((folder.path / "config.json").read_bytes())["config"])
    if args.final:
        # The heal may wait for nodes to serve, then replicas get quiesce_timeout.
        answer = call(live(state), "POST", "/final",
                      timeout=REQUEST_TIMEOUT_S + config.quiesce_timeout)
        print(final_text(answer))
    history = load_history(folder.history, "jsonl")
    if not history.ops:
        sys.stderr.write(f"quorumlab cluster check: the session {state.name} has no ops yet "
                         "(`quorumlab kv put` or `quorumlab load` first)\n")
        return EXIT_BAD_INPUT
    report = check_run_history(history, config)
    outcome = RunOutcome(folder=folder, run_id=state.run_id, verdict=report.verdict,
                         report=report)
    write_results(config, outcome, history.events)
    print_summary(Console(), outcome, config)  # it names report.html too
    return outcome.exit_code
