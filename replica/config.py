"""Command-line configuration shared by the node (``python -m replica``) and the
fan-out agent (``python -m replica.agent``).

A bad flag or peer list is reported in one line on stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from replica.protocol import BUGS

EXIT_BAD_ARGS = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports errors in a single line (exit 2)."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_BAD_ARGS)


def parse_address(text: str) -> tuple[str, int]:
    """HOST:PORT -> (host, port); ValueError if malformed."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"bad address {text!r}: expected HOST:PORT")
    return host, int(port)


def parse_peers(text: str) -> dict[str, str]:
    """``n1=host:port,n2=host:port`` -> {id: "http://host:port"}; ValueError if malformed."""
    peers: dict[str, str] = {}
    for item in text.split(","):
        node, sep, address = item.strip().partition("=")
        if not sep or not node:
            raise ValueError(f"bad peer {item!r}: expected ID=HOST:PORT")
        if node in peers:
            raise ValueError(f"peer {node!r} listed twice")
        host, port = parse_address(address)
        peers[node] = f"http://{host}:{port}"
    return peers


def add_cluster_flags(parser: argparse.ArgumentParser) -> None:
    """Flags both the node and the agent take: the cluster and the quorum."""
    parser.add_argument("--listen", required=True, metavar="HOST:PORT",
                        help="address to serve HTTP on")
    parser.add_argument("--peers", required=True, metavar="ID=HOST:PORT,...",
                        help="every node of the cluster (a node includes itself); peers "
                        "are reached only at these addresses")
    parser.add_argument("--n", type=int, required=True,
                        help="replicas per key (rendezvous hashing picks them; "
                        "all nodes when n is the cluster size)")
    parser.add_argument("--r", type=int, required=True, help="read quorum")
    parser.add_argument("--w", type=int, required=True, help="write quorum")
    parser.add_argument("--request-timeout", type=float, default=0.5, metavar="SECONDS",
                        help="timeout of each quorum phase and each replica request "
                        "(default 0.5)")
    parser.add_argument("--bug", action="append", default=[], choices=sorted(BUGS),
                        metavar="NAME", help="switch a deliberate bug on (repeatable; "
                        "the names are listed below)")
    parser.add_argument("--allow-weak-quorum", action="store_true",
                        help="accept r + w <= n (reads may then miss acknowledged writes)")


def check_cluster(parser: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, str]:
    """Validate the cluster flags (exiting in one line if bad); returns the peer URLs."""
    try:
        parse_address(args.listen)
        peers = parse_peers(args.peers)
    except ValueError as exc:
        parser.error(str(exc))
    if not 1 <= args.n <= len(peers):
        parser.error(f"--n must be between 1 and the number of peers ({len(peers)})")
    if not (1 <= args.r <= args.n and 1 <= args.w <= args.n):
        parser.error("--r and --w must be between 1 and --n")
    if args.r + args.w <= args.n and not args.allow_weak_quorum:
        parser.error("r + w <= n is a weak quorum; pass --allow-weak-quorum to accept it")
    if args.request_timeout <= 0:
        parser.error("--request-timeout must be positive")
    return peers


EPILOG = "bug switches (all off by default):\n" + "".join(
    f"  {name:<16}{what}\n" for name, what in BUGS.items()) + (
    "\nexit status: 0 after a clean shutdown (SIGTERM/SIGINT); 1 if the server\n"
    "cannot start (e.g. address in use); 2 for bad flags or a bad peer list,\n"
    "reported in one line on stderr.\n")


def new_parser(prog: str, description: str) -> OneLineParser:
    """A parser whose epilog (bug switches, exit codes) keeps its line breaks."""
    return OneLineParser(prog=prog, description=description, epilog=EPILOG,
                         formatter_class=argparse.RawDescriptionHelpFormatter)
