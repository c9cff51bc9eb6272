"""`quorumlab load`: the run's workload (and, if asked, its nemesis) against a live cluster.

The supervisor drives it with the very workers and nemesis driver of
`quorumlab run` (harness.runner.drive_workload), into the session's history;
this command shows the counts as they come. Ctrl-C stops the load (the
workers finish their op, the nemesis heals what it started).

Exit codes: 0 done, 254 bad arguments or no such cluster, 255 the load or the
supervisor failed, 130 interrupted (the load is stopped).
"""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from checkers.exits import EXIT_HARNESS_FAILURE, EXIT_INTERRUPTED
from harness.run_command import add_load_options, add_nemesis_options
from harness.session.control import add_lookup_options, call, live, lookup, session_command, stream
from harness.session.state import SessionState


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "load", help="run the workload against a live cluster, with live counts",
        description="Concurrent reads and writes (as `quorumlab run` issues them) against "
                    "the live cluster, recorded in its history.",
        epilog="exit codes: 0 done, 254 bad arguments or no such cluster, 255 failure, "
               "130 interrupted (load stopped).")
    add_load_options(p, time_limit=10.0)
    add_nemesis_options(p, "none")
    p.add_argument("--seed", type=int, default=None,
                   help="seed of the workload and faults (default: the cluster's)")
    add_lookup_options(p)
    p.set_defaults(func=load)


@session_command("load")
def load(args: argparse.Namespace) -> int:
    from nemesis.kinds import parse_nemesis

    state = live(lookup(args))
    options: dict[str, Any] = {
        "time_limit": args.time_limit, "concurrency": args.concurrency, "rate": args.rate,
        "read_ratio": args.read_ratio, "cross_read_ratio": args.cross_read_ratio,
        "nemesis": parse_nemesis(args.nemesis),
        "nemesis_interval": args.nemesis_interval, "nemesis_targets": args.nemesis_targets}
    if args.seed is not None:
        options["seed"] = args.seed
    console = Console(stderr=True)
    try:
        result = _follow(state, options, console)
    except KeyboardInterrupt:
        call(state, "POST", "/load/stop")
        console.print("load stopped")
        return EXIT_INTERRUPTED
    print(f"load done: {_counts(result)}")
    if result.get("error"):
        print(f"load failed: {result['error']}")
        return EXIT_HARNESS_FAILURE
    return 0


def _follow(state: SessionState, options: dict[str, Any], console: Console) -> dict[str, Any]:
    """Show each progress line as it comes; the last (the totals)."""
    result: dict[str, Any] = {}
    with console.status("load starting") as status:
        for line in stream(state, "/load", options, timeout=options["time_limit"] + 120):
            result = line
            status.update(f"load {_counts(line)}")
    return result


def _counts(line: dict[str, Any]) -> str:
    return (f"{line['elapsed']:g}s of {line['time_limit']:g}s: {line['ok']} ok, "
            f"{line['fail']} fail, {line['info']} info")
