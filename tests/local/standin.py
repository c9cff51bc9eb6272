"""A tiny stand-in replica for backend tests: enough HTTP to see the wiring.

Started through ``--replica-cmd`` as ``python standin.py --id {id} --listen
{listen} --peers {peers} --data-dir {data_dir}``. It keeps a durable dict (so a
kill/start can be seen to keep data) and ``GET /ask/{peer}`` makes it call a
peer at the address its ``--peers`` gave, reporting ok / timeout / refused / broken.
With STANDIN_CHILD=1 it leaves a ``sleep`` child in its process group.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
from pathlib import Path

import aiohttp
from aiohttp import web


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--id", required=True)
    parser.add_argument("--listen", required=True)
    parser.add_argument("--peers", required=True)
    parser.add_argument("--data-dir", required=True)
    args, _ = parser.parse_known_args()
    peers = dict(entry.split("=", 1) for entry in args.peers.split(","))
    store_path = Path(args.data_dir) / "store.json"
    store = json.loads(store_path.read_text()) if store_path.exists() else {}
    if os.environ.get("STANDIN_CHILD") == "1":
        subprocess.Popen(["sleep", "600"])

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"id": args.id})

    async def get(request: web.Request) -> web.Response:
        key = request.match_info["key"]
        return web.json_response({"key": key, "value": store.get(key), "version": None})

    async def put(request: web.Request) -> web.Response:
        key = request.match_info["key"]
        store[key] = (await request.json())["value"]
        tmp = store_path.with_suffix(".tmp")
        with open(tmp, "w") as f:
            json.dump(store, f)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(store_path)
        return web.json_response({"version": [1, args.id]})

    async def ask(request: web.Request) -> web.Response:
        peer = request.match_info["peer"]
        timeout = aiohttp.ClientTimeout(total=float(request.query.get("timeout", "1")))
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session, \
                    session.get(f"http://{peers[peer]}/health") as reply:
                return web.json_response({"ok": (await reply.json())["id"]})
        except TimeoutError:
            return web.json_response({"error": "timeout"}, status=504)
        except aiohttp.ClientConnectorError:
            return web.json_response({"error": "refused"}, status=502)
        except aiohttp.ClientError as exc:
            return web.json_response({"error": f"broken: {exc}"}, status=502)

    app = web.Application()
    app.add_routes([web.get("/health", health), web.get("/kv/{key}", get),
                    web.put("/kv/{key}", put), web.get("/ask/{peer}", ask)])
    host, port = args.listen.rsplit(":", 1)
    web.run_app(app, host=host, port=int(port), print=None)


if __name__ == "__main__":
    main()
