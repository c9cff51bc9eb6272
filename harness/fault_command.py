"""`quorumlab fault KIND [WORDS...]` and `quorumlab fault heal [KIND]`: the nemesis's
faults applied by hand to a live cluster (`quorumlab cluster up`).

Each kind is the nemesis's own (nemesis/kinds.py), applied through the same
driver, so the session's history records it exactly as a run records a
scheduled fault, with the check that a partition took effect.

Exit codes: 0 applied, 254 bad arguments or no such cluster, 255 the backend
failed to apply it (recorded in the history with its error) or the supervisor
did not answer, 130 interrupted.
"""

from __future__ import annotations

import argparse
import re

from checkers.exits import EXIT_HARNESS_FAILURE
from harness.session.control import add_lookup_options, call, live, lookup, session_command
from harness.session.display import check_text, fault_text
from nemesis.driver import CHECK_EVENT
from nemesis.kinds import KINDS

# A negative amount ("-30s", "-1.5s", "-500ms"). argparse reads a word that
# starts with "-" as an option unless its parser's _negative_number_matcher
# calls it a negative number, so a negative clock offset needed "--" before it;
# this widens that test to amounts with a unit (no option of `fault` looks so).
NEGATIVE_AMOUNT = re.compile(r"^-(\d+\.?\d*|\.\d+)[a-z]*$")


def _kinds_help() -> str:
    lines = ["kinds (WORDS after the kind):"]
    for name, kind in KINDS.items():
        lines.append(f"  {name} {kind.usage}".rstrip())
        lines.append(f"      {kind.help}")
    lines.append("  heal [KIND]")
    lines.append("      undo the faults of KIND (or family: partition, clock), or every fault")
    lines += ["", "examples:", "  quorumlab fault partition-halves",
              "  quorumlab fault partition-isolate n3",
              "  quorumlab fault partition n1,n2/n3,n4,n5", "  quorumlab fault kill n2",
              "  quorumlab fault pause n4", "  quorumlab fault delay 50ms",
              "  quorumlab fault clock-skew n1 +30s n2 -500ms",
              "  quorumlab fault heal partition",
              "", "exit codes: 0 applied, 254 bad arguments or no such cluster, "
              "255 the backend failed (recorded) or no supervisor, 130 interrupted."]
    return "\n".join(lines)


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "fault", help="apply a fault to a live cluster by hand, or heal",
        description="Apply one of the nemesis's faults to the live cluster now, or heal. "
                    "A partition replaces the one in effect, a delay the delay.",
        epilog=_kinds_help(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p._negative_number_matcher = NEGATIVE_AMOUNT
    p.add_argument("kind", metavar="KIND", choices=[*KINDS, "heal"],
                   help="a fault kind (below), or heal")
    p.add_argument("words", metavar="WORDS", nargs="*",
                   help="the kind's targets or amounts (below)")
    add_lookup_options(p)
    p.set_defaults(func=fault)


@session_command("fault")
def fault(args: argparse.Namespace) -> int:
    state = live(lookup(args))
    if args.kind == "heal":
        if len(args.words) > 1:
            raise ValueError("heal takes at most one KIND")
        answer = call(state, "POST", "/heal", {"kind": args.words[0] if args.words else None})
        healed = answer["healed"]
        print("healed: " + ("; ".join(fault_text(f) for f in healed) if healed
                            else "no fault was in effect")
              + ("" if args.words else " (and every node started, resumed, clock reset)"))
        if answer["warning"]:
            print(f"warning: {answer['warning']}")
        return 0
    answer = call(state, "POST", "/fault", {"kind": args.kind, "words": args.words})
    code = 0
    for event in answer["events"]:
        value = event["value"]
        if event["f"] == CHECK_EVENT:
            print(f"  {check_text(value)}")
            continue
        started = event["f"] == KINDS[value["kind"]].events[0]
        print(f"{'started' if started else 'stopped'}: {fault_text(value)}")
        if "error" in value:
            print(f"  failed: {value['error']}")
            code = EXIT_HARNESS_FAILURE
    return code
