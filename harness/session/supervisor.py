"""The supervisor: the detached process that owns a `quorumlab cluster up` cluster.

`cluster up` returns at once, so something else must hold the cluster: the
local backend's node processes (which die with it, PR_SET_PDEATHSIG) and link
proxies (in this process), or the docker backend's containers (labelled with
this process as owner, so the reaper sweeps them once it is gone). Its death,
however it comes, therefore leaves nothing behind; `cluster down` asks it to
tear down and exit.

It serves a small JSON API on a Unix socket (only this user can reach it) to
the other commands, and applies what they ask through one Session, so every op
and fault lands in the session's one history:

    GET  /status                 nodes, faults in effect, op counts
    POST /fault {kind, words}    POST /heal {kind|null}
    POST /kv {f, key, value, node}
    POST /load {options}         JSON lines: progress about every second, then the totals
    POST /load/stop              POST /down
    POST /final                  heal, converge, read every copy (`cluster check --final`)

    python -m harness.session.supervisor FOLDER     # what `cluster up` starts
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

from harness.config import RunConfig
from harness.owner import Owner
from harness.run_command import harness_log
from harness.run_folder import RunFolder
from harness.session.live import LiveCluster
from harness.session.session import Session, SessionError
from harness.session.state import SessionState, socket_path

log = logging.getLogger("quorumlab")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


@web.middleware
async def one_line_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """A refused request is a 400 with its one line; a supervisor bug a 500, logged."""
    try:
        return await handler(request)
    except (SessionError, orjson.JSONDecodeError) as exc:
        return _json({"error": str(exc)}, 400)
    except web.HTTPException:
        raise
    except Exception as exc:
        log.exception("request %s failed", request.path)
        return _json({"error": f"supervisor failed: {type(exc).__name__}: {exc}"}, 500)


async def _body(request: web.Request) -> dict[str, Any]:
    data = orjson.loads(await request.read() or b"{}")
    if not isinstance(data, dict):
        raise SessionError("the request body must be a JSON object")
    return data


def control_app(session: Session, state: SessionState, stop: asyncio.Event) -> web.Application:
    """The supervisor's API around ``session``; ``stop`` is set once torn down."""

    async def status(request: web.Request) -> web.Response:
        return _json({"name": state.name, "backend": state.backend, "run_id": state.run_id,
                      "folder": str(state.folder), "pid": os.getpid(),
                      "config": session.cluster.config.to_dict(), **await session.status()})

    async def fault(request: web.Request) -> web.Response:
        body = await _body(request)
        return _json(await session.fault(str(body.get("kind")), list(body.get("words", []))))

    async def heal(request: web.Request) -> web.Response:
        return _json(await session.heal((await _body(request)).get("kind")))

    async def kv(request: web.Request) -> web.Response:
        body = await _body(request)
        return _json(await session.op(body.get("f", ""), str(body.get("key", "")),
                                      body.get("value"), body.get("node")))

    async def load(request: web.Request) -> web.StreamResponse:
        stream = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})

        async def progress(counts: dict[str, Any]) -> None:
            if not stream.prepared:
                await stream.prepare(request)
            with contextlib.suppress(ConnectionError):  # the command went away: load on
                await stream.write(orjson.dumps(counts) + b"\n")

        result = await session.load(await _body(request), progress)
        await progress({**result, "done": True})
        with contextlib.suppress(ConnectionError):
            await stream.write_eof()
        return stream

    async def final(request: web.Request) -> web.Response:
        return _json(await session.final())

    async def stop_load(request: web.Request) -> web.Response:
        return _json({"stopped": await session.stop_load()})

    async def down(request: web.Request) -> web.Response:
        await session.close()
        asyncio.get_running_loop().call_soon(stop.set)
        return _json({"down": True})

    app = web.Application(middlewares=[one_line_errors])
    app.add_routes([web.get("/status", status), web.post("/fault", fault),
                    web.post("/heal", heal), web.post("/kv", kv), web.post("/load", load),
                    web.post("/load/stop", stop_load), web.post("/final", final),
                    web.post("/down", down)])
    return app


async def supervise(folder: Path) -> int:
    """Start the cluster, serve until `down` or a signal, tear down; the exit code."""
    stored = orjson.loads((folder / "config.json").read_bytes())
    config = RunConfig.from_dict(stored["config"])
    state = SessionState.read(folder)
    state.owner, state.socket = Owner.current().to_label(), str(socket_path(state.run_id))
    state.write()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        loop.add_signal_handler(sig, stop.set)
    cluster = LiveCluster(config, stored["backend"], RunFolder(folder), state.run_id)
    log.info("starting %d nodes (%s backend)", len(cluster.nodes), cluster.backend_name)
    try:
        await cluster.start()
    except Exception as exc:
        log.exception("cluster setup failed")
        state.state, state.error = "failed", f"cluster setup failed: {exc}"
        state.write()
        return 255
    session = Session(cluster, config.seed)
    runner = web.AppRunner(control_app(session, state, stop), handle_signals=False)
    try:
        await runner.setup()
        path = Path(state.socket)
        path.unlink(missing_ok=True)
        await web.UnixSite(runner, str(path)).start()
        path.chmod(0o600)
        state.state, state.nodes = "up", cluster.addresses()
        state.write()
        log.info("up: %s", state.nodes)
        await stop.wait()
    finally:
        log.info("tearing down")
        await session.close()
        await runner.cleanup()
        Path(state.socket).unlink(missing_ok=True)
        state.state = "down"
        state.write()
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m harness.session.supervisor FOLDER\n")
        return 254
    folder = Path(argv[0]).resolve()
    with harness_log(folder / "harness.log"):
        return asyncio.run(supervise(folder))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
