"""`quorumlab serve`: browse every run of a store directory in a web browser.

Exit codes: 0 after Ctrl-C or SIGTERM, 254 bad arguments (no such store
directory, a port out of range), 255 the address cannot be listened on.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from pathlib import Path

from checkers.exits import EXIT_BAD_INPUT, EXIT_HARNESS_FAILURE

EPILOG = """\
The server is read-only and serves nothing outside the store directory.
exit codes: 0 stopped (Ctrl-C / SIGTERM), 254 bad arguments, 255 cannot listen.
"""
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "serve", help="browse runs and their reports in a web browser",
        description="Serve a web page listing every run of the store directory, newest "
                    "first, with each run's report, history and logs.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=8080,
                   help="TCP port (default %(default)s; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default %(default)s: this machine only)")
    p.add_argument("--store-dir", default="histories",
                   help="the folder runs were written to (default %(default)s)")
    p.set_defaults(func=serve_command)


def serve_command(args: argparse.Namespace) -> int:
    store = Path(args.store_dir)
    if not store.is_dir():
        sys.stderr.write(f"quorumlab serve: error: --store-dir {store}: no such folder\n")
        return EXIT_BAD_INPUT
    if not 0 <= args.port <= 65535:
        sys.stderr.write(f"quorumlab serve: error: --port {args.port}: not a TCP port\n")
        return EXIT_BAD_INPUT
    try:
        asyncio.run(_serve(store, args.host, args.port))
    except OSError as exc:
        sys.stderr.write(f"quorumlab serve: error: cannot listen on {args.host}:{args.port}: "
                         f"{exc.strerror or exc}\n")
        return EXIT_HARNESS_FAILURE
    return 0


async def _serve(store: Path, host: str, port: int) -> None:
    from aiohttp import web

    from harness.web import make_app

    runner = web.AppRunner(make_app(store), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = runner.addresses[0][1] if runner.addresses else port
        shown = f"[{host}]" if ":" in host else host
        print(f"quorumlab serve: http://{shown}:{bound}/ (runs in {store.resolve()}); "
              "Ctrl-C stops", flush=True)
        if host not in LOOPBACK:
            sys.stderr.write(f"quorumlab serve: warning: listening on {host}: anyone who "
                             "reaches it can read every history and log\n")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
    finally:
        await runner.cleanup()
