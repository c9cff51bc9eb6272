"""`quorumlab sim`: search simulated schedules for an anomaly, shrink it, tell it.

    quorumlab sim --replica-bug early-ack            # find, shrink, print the story
    quorumlab sim --examples 1 --seed 7              # one schedule of the correct replica
    quorumlab sim --replay histories/sim/latest/schedule.json

Each invocation writes one run folder, laid out as `quorumlab run`'s
(histories/<name>/<UTC timestamp>/ and a `latest` link): config.json,
schedule.json (what --replay and `quorumlab run --schedule` take),
history.jsonl and results.json of the schedule shown (the shrunk failing one;
else the last one tried), report.html with its plots, and story.txt.
Exit codes as `quorumlab run`: 0 valid, 1 invalid, 2 unknown, 254 bad
arguments, 255 the simulator itself failed, 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from rich.console import Console

from checkers.exits import EXIT_BAD_INPUT, EXIT_HARNESS_FAILURE, EXIT_INTERRUPTED, exit_code
from nemesis.kinds import parse_nemesis
from replica.protocol import BUGS
from sim.schedule import LINK_FAULT, MODES, Schedule, ScheduleError
from sim.search import Space, check_run, search
from sim.simulation import simulate
from sim.story import tell

# The run folder's writers (matplotlib above all) are imported where the
# folder is written, so that a bad option is answered at once.

log = logging.getLogger("quorumlab")

EPILOG = """\
bugs: """ + ", ".join(BUGS) + """
exit codes: 0 valid (no anomaly found), 1 invalid (an anomaly: its shrunk schedule is
shown and saved), 2 unknown, 254 bad arguments, 255 simulator failure, 130 interrupted.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sim", help="simulate the reference replica: find an anomaly and shrink it",
        description="Run the reference replica's own protocol, storage and anti-entropy code "
                    "on N simulated nodes (virtual clock, simulated network and faults); "
                    "hypothesis draws schedules and shrinks the first that fails the checkers.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--replica-bug", action="append", default=[], metavar="NAME",
                   help="switch on a bug of the reference replica (repeatable)")
    p.add_argument("--mode", choices=MODES, default="coordinator",
                   help="coordinator: a node fans out each op; client: a fan-out client at "
                        "the worker's home node (default %(default)s)")
    p.add_argument("--examples", type=int, default=1000,
                   help="schedules to try before giving up (default %(default)s)")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the search (default: random; recorded in config.json)")
    p.add_argument("--max-nodes", type=int, default=Space.max_nodes,
                   help="largest cluster drawn (default %(default)s)")
    p.add_argument("--max-clients", type=int, default=Space.max_clients,
                   help="most clients drawn (default %(default)s)")
    p.add_argument("--max-ops", type=int, default=Space.max_ops,
                   help="most ops per client drawn (default %(default)s)")
    p.add_argument("--nemesis", default="all",
                   help="fault kinds drawn: a comma list of quorumlab run's kinds and "
                        f"'{LINK_FAULT}' (per-link delay, loss, duplication, reordering), "
                        "or all, or none (default %(default)s)")
    p.add_argument("--replay", type=Path, metavar="FILE",
                   help="run a saved schedule (schedule.json, or its run folder) again "
                        "exactly; search options are ignored")
    p.add_argument("--name", default="sim", help="test name (default %(default)s)")
    p.add_argument("--store-dir", default="histories",
                   help="where run folders go (default %(default)s)")
    p.set_defaults(func=sim_command)


def _check_name(name: str) -> None:
    from harness.config import NAME_PATTERN

    if not NAME_PATTERN.match(name):
        raise ValueError(f"--name {name!r}: use letters, digits, '.', '_' or '-' (max 64)")


def _space(args: argparse.Namespace) -> Space:
    """The search space; ValueError with one line for a bad option."""
    unknown = [bug for bug in args.replica_bug if bug not in BUGS]
    if unknown:
        raise ValueError(f"unknown --replica-bug {unknown[0]!r}; choose from {', '.join(BUGS)}")
    if args.examples < 1:
        raise ValueError("--examples must be at least 1")
    if not 2 <= args.max_nodes <= 9:
        raise ValueError("--max-nodes must be between 2 and 9")
    if args.max_clients < 1 or args.max_ops < 1:
        raise ValueError("--max-clients and --max-ops must be at least 1")
    if args.seed is not None and args.seed < 0:
        raise ValueError("--seed must be >= 0")
    _check_name(args.name)
    names = [name.strip() for name in args.nemesis.split(",")]
    kinds = [name for name in names if name != LINK_FAULT]
    parsed = parse_nemesis(",".join(kinds) if kinds else "none")
    if args.nemesis.strip() == "all" or LINK_FAULT in names:
        parsed.append(LINK_FAULT)
    return Space(bugs=tuple(args.replica_bug), mode=args.mode, max_nodes=args.max_nodes,
                 max_clients=args.max_clients, max_ops=args.max_ops, kinds=tuple(parsed))


def sim_command(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    try:
        if args.replay is not None:
            path = args.replay / "schedule.json" if args.replay.is_dir() else args.replay
            schedule, search_info, seed = Schedule.load(path), {"replay": str(path)}, None
            _check_name(args.name)
        else:
            space = _space(args)
            seed = args.seed if args.seed is not None else int.from_bytes(os.urandom(4), "big")
    except (ScheduleError, ValueError) as exc:
        sys.stderr.write(f"quorumlab sim: error: {exc}\n")
        return EXIT_BAD_INPUT
    try:
        if args.replay is None:
            console.print(f"[dim]·[/dim] searching up to {args.examples} schedules "
                          f"(seed {seed}, bugs: {', '.join(space.bugs) or 'none'}, "
                          f"{space.mode} mode)")
            found = search(space, args.examples, seed,
                           progress=lambda msg: console.print(f"[dim]·[/dim] {msg}"))
            schedule = found.found or found.last
            assert schedule is not None
            search_info = {
                "seed": seed, "examples": args.examples, "space": space.__dict__,
                "schedules_run": found.examples, "ops_simulated": found.ops,
                "found": found.found is not None,
                "first_failure_seconds": found.first_failure_s,
                "first_failure_cpu_seconds": found.first_failure_cpu_s,
                "first_failure_ops": found.first_failure_ops,
                "seconds": round(found.seconds, 3)}
            console.print(f"[dim]·[/dim] {found.examples} schedules, {found.ops} simulated ops "
                          f"in {found.seconds:.2f}s")
        return _show(schedule, search_info, seed, args, console)
    except KeyboardInterrupt:
        sys.stderr.write("quorumlab sim: interrupted\n")
        return EXIT_INTERRUPTED
    except Exception as exc:  # a simulator bug: one line here, the traceback in the log
        log.exception("simulation failed")
        sys.stderr.write(f"quorumlab sim: simulator failed: {type(exc).__name__}: {exc}\n")
        return EXIT_HARNESS_FAILURE


def _show(schedule: Schedule, search_info: dict, seed: int | None,
          args: argparse.Namespace, console: Console) -> int:
    """Run the schedule once more with its message trace; write the run folder; tell it."""
    from harness.config import RunConfig
    from harness.outcome import RunOutcome
    from harness.results import SIM_BACKEND, write_results
    from harness.run_folder import create_run_folder
    from sim.recorder import SimRecorder

    result = simulate(schedule, trace=True)
    report = check_run(result)
    folder = create_run_folder(Path(args.store_dir), args.name)
    config = RunConfig(
        name=args.name, backend=SIM_BACKEND, nodes=schedule.nodes, n=schedule.n,
        r=schedule.read_quorum, w=schedule.write_quorum, mode=schedule.mode,
        concurrency=len(schedule.clients), keys=schedule.keys,
        time_limit=result.stats["virtual_seconds"],  # the run's virtual length
        op_timeout=schedule.op_timeout_ms / 1000, seed=seed or schedule.seed,
        replica_bugs=list(schedule.bugs),
        nemesis=sorted({fault.kind for fault in schedule.faults}),
        anti_entropy_interval=schedule.anti_entropy_ms / 1000, store_dir=args.store_dir)
    schedule.save(folder.path / "schedule.json")
    folder.write_json("config.json", {"config": config.to_dict(), "backend": SIM_BACKEND,
                                      "search": search_info, "schedule": schedule.to_json()})
    SimRecorder.write_events(result.events, folder.history)
    outcome = RunOutcome(folder=folder, run_id=f"sim-{folder.path.name}",
                         verdict=report.verdict, report=report,
                         system_stats={key: value for key, value in result.stats.items()
                                       if key != "wall_seconds"})
    failed = report.verdict is False
    title = ("minimal failing schedule" if failed and args.replay is None else
             "replayed schedule" if args.replay is not None else "last schedule tried")
    story = tell(result, report, f"{title}:")
    (folder.path / "story.txt").write_text("\n".join(story) + "\n")
    write_results(config, outcome, result.events)  # the report links the story
    if failed or args.replay is not None:
        print("\n".join(story))
    verdict = {True: "VALID", False: "INVALID", "unknown": "UNKNOWN"}[report.verdict]
    print(f"{args.name}: {verdict}  {folder.path}")
    if failed:
        print(f"replay: quorumlab sim --replay {folder.path / 'schedule.json'}")
        print(f"on a real cluster: quorumlab run --schedule {folder.path / 'schedule.json'}")
    return exit_code(report.verdict)
