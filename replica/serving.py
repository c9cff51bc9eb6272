"""Process plumbing shared by the node and the agent: logging and serving."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger("replica")


def setup_logging(name: str) -> None:
    """One line per event on stderr, tagged with the node or agent name."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format=f"%(asctime)s {name} %(levelname)s %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


async def serve_until_signalled(app: web.Application, listen: tuple[str, int],
                                cleanup: Callable[[], Awaitable[None]]) -> None:
    """Serve `app` until SIGTERM/SIGINT, then run `cleanup`."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, listen[0], listen[1], backlog=1024).start()
        log.info("serving on %s:%d", *listen)
        await stop.wait()
        log.info("shutting down")
    finally:
        await runner.cleanup()
        await cleanup()


