"""A one-process key-value node for the README's system example: GET/PUT /v/{key},
GET /health. Its nodes never talk to each other, so one node is linearizable and
several are not (each holds its own values): the test expects both verdicts."""

from __future__ import annotations

import argparse

from aiohttp import web


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", required=True)
    host, _, port = parser.parse_args().listen.rpartition(":")
    store: dict[str, object] = {}

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def get(request: web.Request) -> web.Response:
        return web.json_response({"value": store.get(request.match_info["key"])})

    async def put(request: web.Request) -> web.Response:
        store[request.match_info["key"]] = (await request.json())["value"]
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/health", health)
    app.router.add_get("/v/{key}", get)
    app.router.add_put("/v/{key}", put)
    web.run_app(app, host=host, port=int(port), print=None)


if __name__ == "__main__":
    main()
