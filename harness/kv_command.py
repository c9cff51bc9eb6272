"""`quorumlab kv get KEY` and `quorumlab kv put KEY VALUE`: one op against a live cluster.

The op goes through the supervisor, which issues it with the system's own client
at the node asked for and records it (invoke, then ok, fail or info) in the
session's history, as a run's worker would.

Exit codes: 0 ok, 1 the op failed (fail: it certainly did not happen) or its
outcome is unknown (info), 254 bad arguments or no such cluster, 255 the
supervisor did not answer, 130 interrupted.
"""

from __future__ import annotations

import argparse
from typing import Any

import orjson

from harness.session.control import add_lookup_options, call, live, lookup, session_command
from harness.session.display import op_text

EPILOG = """\
VALUE is parsed as JSON ('"a"', 3, '{"x": [1]}'), else taken as a string (hello).
A value can be written once per session (every read then names its write).
exit codes: 0 ok, 1 fail or info (printed), 254 bad arguments or no such cluster,
255 no supervisor, 130 interrupted.
"""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "kv", help="read or write one key of a live cluster",
        description="One read or write against the live cluster, recorded in its history.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    ops = p.add_subparsers(dest="op", metavar="OP", required=True)
    get = ops.add_parser("get", help="read KEY", epilog=EPILOG,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    get.add_argument("key", metavar="KEY")
    put = ops.add_parser("put", help="write VALUE to KEY", epilog=EPILOG,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    put.add_argument("key", metavar="KEY")
    put.add_argument("value", metavar="VALUE")
    for op in (get, put):
        op.add_argument("--node", default=None,
                        help="the node the op is sent to (default: the first)")
        add_lookup_options(op)
        op.set_defaults(func=kv)


def parse_value(text: str) -> Any:
    """JSON if it parses, else the text itself as a string."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


@session_command("kv")
def kv(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"f": "read" if args.op == "get" else "write", "key": args.key,
                            "node": args.node}
    if args.op == "put":
        body["value"] = parse_value(args.value)
    event = call(live(lookup(args)), "POST", "/kv", body)
    print(op_text(event))
    return 0 if event["type"] == "ok" else 1
