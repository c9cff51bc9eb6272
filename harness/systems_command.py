"""`quorumlab systems`: every system under test, with what it can be asked.

For each: its options (with defaults), the backends it runs on, the nemeses
that make sense for it on each backend, and its ops. A system that cannot be
loaded (a broken third-party package) is listed with the reason, and makes
the exit code 254.
"""

from __future__ import annotations

import argparse

from checkers.exits import EXIT_BAD_INPUT
from harness.systems import System, system_class, system_names
from nemesis.kinds import KINDS, scheduled_kinds


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "systems", help="list the systems under test (built in and installed)",
        description="List every system `quorumlab run --system NAME` accepts, with its "
                    "options, backends, nemeses and ops.")
    p.set_defaults(func=systems_command)


def describe(system: type[System]) -> list[str]:
    """The lines `quorumlab systems` prints for one system."""
    lines = [f"{system.name}: {system.help}",
             f"  ops: {', '.join(op for op in ('read', 'write', 'cas') if op in system.ops)}"]
    for backend in system.backends:
        offered = system.offered_capabilities(backend)
        kinds = [name for name in scheduled_kinds() if KINDS[name].capability in offered]
        lines.append(f"  backend {backend}: nemeses {', '.join(kinds) or 'none'}")
    if system.clock_unreachable:
        lines.append(f"  clock-skew: refused, it cannot reach this system: "
                     f"{system.clock_unreachable}")
    for name, option in system.options.items():
        default = "required" if option.default is None else f"default {option.default!r}"
        choices = f"; one of {', '.join(option.choices)}" if option.choices else ""
        lines.append(f"  --system-opt {name}=...: {option.help} ({default}{choices})")
    return lines


def systems_command(args: argparse.Namespace) -> int:
    status = 0
    for name in system_names():
        try:
            lines = describe(system_class(name))
        except ValueError as exc:
            lines, status = [f"{name}: unavailable: {exc}"], EXIT_BAD_INPUT
        print("\n".join(lines))
    return status
