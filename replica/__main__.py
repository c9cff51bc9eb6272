"""``python -m replica``: run one replica node until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from replica.clock import WallClock
from replica.config import (
    add_cluster_flags,
    check_cluster,
    new_parser,
    parse_address,
)
from replica.node import Node
from replica.serving import serve_until_signalled, setup_logging

log = logging.getLogger("replica")


def build_parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "python -m replica",
        "A leaderless quorum key-value replica (multi-writer ABD), serving "
        "the public API (GET/PUT /kv/{key}, GET /health) and the internal replica API.")
    parser.add_argument("--id", required=True, help="this node's id (must be in --peers)")
    add_cluster_flags(parser)
    parser.add_argument("--data-dir", required=True, type=Path, help="where sqlite lives")
    parser.add_argument("--anti-entropy-interval", type=float, default=0.5, metavar="SECONDS",
                        help="mean time between anti-entropy exchanges with a random peer; "
                        "0 turns anti-entropy off (default 0.5)")
    parser.add_argument("--clock-offset-file", type=Path, metavar="PATH",
                        help="file holding seconds added to this node's wall clock "
                        "(re-read when it changes; absent = 0)")
    parser.add_argument("--no-group-commit", action="store_true",
                        help="commit every write in its own transaction (for benchmarks)")
    return parser


async def run(args: argparse.Namespace, peers: dict[str, str]) -> None:
    node = await Node.start(
        args.id, peers, n=args.n, r=args.r, w=args.w, data_dir=args.data_dir,
        request_timeout=args.request_timeout,
        anti_entropy_interval=args.anti_entropy_interval, bugs=tuple(args.bug),
        clock=WallClock(args.clock_offset_file), group_commit=not args.no_group_commit)
    log.info("started: writer %s, %d keys on disk, n=%d r=%d w=%d, peers %s, bugs %s",
             node.driver.writer, len(node.store), args.n, args.r, args.w,
             ",".join(peers), ",".join(args.bug) or "none")
    await serve_until_signalled(node.app(), parse_address(args.listen), node.close)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    peers = check_cluster(parser, args)
    if args.id not in peers:
        parser.error(f"--id {args.id!r} is not in --peers")
    if args.anti_entropy_interval < 0:
        parser.error("--anti-entropy-interval must be >= 0")
    setup_logging(args.id)
    try:
        asyncio.run(run(args, peers))
    except OSError as exc:
        sys.stderr.write(f"{parser.prog}: cannot start: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
