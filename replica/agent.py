"""``python -m replica.agent``: the public API served by a FanoutClient.

In client-driven mode the harness runs one agent "at" each node, so the
clients homed there run the quorum protocol from that node's network position
(and suffer its partitions). Validation and error mapping are the node's own
(``replica.api``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from replica.api import make_app, public_routes
from replica.client import FanoutClient
from replica.config import (
    add_cluster_flags,
    check_cluster,
    new_parser,
    parse_address,
)
from replica.serving import serve_until_signalled, setup_logging


def build_parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "python -m replica.agent",
        "Serve the replica public API (GET/PUT /kv/{key}, GET /health) by "
        "running the quorum protocol client-side against every node's internal API.")
    add_cluster_flags(parser)
    return parser


async def run(args: argparse.Namespace, peers: dict[str, str]) -> None:
    client = FanoutClient(peers, n=args.n, r=args.r, w=args.w,
                          request_timeout=args.request_timeout, bugs=tuple(args.bug))

    def health() -> dict[str, str]:
        return {"agent": args.listen, "writer": client.writer}

    app = make_app(public_routes(client, health))
    await serve_until_signalled(app, parse_address(args.listen), client.close)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    peers = check_cluster(parser, args)
    setup_logging(f"agent@{args.listen}")
    try:
        asyncio.run(run(args, peers))
    except OSError as exc:
        sys.stderr.write(f"{parser.prog}: cannot start: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
