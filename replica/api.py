"""The public HTTP API and the request checks shared by the node and the agent.

Public API (DESIGN.md "Replica HTTP API"): ``GET /kv/{key}``, ``PUT /kv/{key}``
with ``{"value": ...}``, ``GET /health``. Any object with async ``read(key)`` and
``write(key, value)`` can serve it: the node's coordinator or a FanoutClient.
Bad input is rejected with 400 before anything changes; a missed quorum is 503
``{"error", "definite"}``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import orjson
from aiohttp import web

from replica.errors import QuorumError
from replica.version import Version, version_json

log = logging.getLogger("replica.api")

KEY_PATTERN = re.compile(r"[A-Za-z0-9._~-]{1,256}")
MAX_VALUE_BYTES = 64 * 1024
MAX_BODY_BYTES = MAX_VALUE_BYTES + 1024  # room for the envelope around the value


class BadRequest(Exception):
    """Input the API refuses (answered with 400 and this message)."""


class Engine(Protocol):
    """What serves the public API: a quorum coordinator of some kind."""

    async def read(self, key: str) -> tuple[Any, Version | None]: ...

    async def write(self, key: str, value: Any) -> Version: ...


def json_response(body: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status,
                        content_type="application/json")


def check_key(request: web.Request) -> str:
    key = request.match_info["key"]
    if not KEY_PATTERN.fullmatch(key):
        raise BadRequest("key must be 1 to 256 URL-safe characters (A-Z a-z 0-9 . _ ~ -)")
    return key


async def read_body(request: web.Request, limit: int = MAX_BODY_BYTES) -> dict[str, Any]:
    """The request's JSON object, refusing oversized (over `limit`) or malformed bodies."""
    if request.content_length is not None and request.content_length > limit:
        raise BadRequest(f"body too large: {request.content_length} bytes (limit {limit})")
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(limit + 1 - size):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise BadRequest(f"body too large (limit {limit} bytes)")
    try:
        body = orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"malformed JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadRequest("body must be a JSON object")
    return body


def check_value(body: dict[str, Any]) -> Any:
    """The body's "value": any JSON up to 64 KiB once encoded."""
    if "value" not in body:
        raise BadRequest('body must have a "value" field')
    value = body["value"]
    if len(orjson.dumps(value)) > MAX_VALUE_BYTES:
        raise BadRequest(f"value larger than {MAX_VALUE_BYTES} bytes")
    return value


def check_version(body: dict[str, Any]) -> Version:
    try:
        return Version.from_json(body.get("version"))
    except ValueError as exc:
        raise BadRequest(str(exc)) from None


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Map BadRequest to 400, QuorumError to 503, and anything unexpected to 500."""
    try:
        return await handler(request)
    except BadRequest as exc:
        return json_response({"error": str(exc)}, status=400)
    except QuorumError as exc:
        return json_response({"error": exc.message, "definite": exc.definite}, status=503)
    except web.HTTPException:
        raise
    except Exception as exc:
        log.exception("internal error serving %s %s", request.method, request.path)
        return json_response({"error": f"internal error: {type(exc).__name__}"}, status=500)


def public_routes(engine: Engine, health: Callable[[], dict[str, Any]]) -> list[web.RouteDef]:
    """GET/PUT /kv/{key} served by `engine`; GET /health answers `health()`."""

    async def get_kv(request: web.Request) -> web.Response:
        key = check_key(request)
        value, version = await engine.read(key)
        return json_response({"key": key, "value": value, "version": version_json(version)})

    async def put_kv(request: web.Request) -> web.Response:
        key = check_key(request)
        value = check_value(await read_body(request))
        version = await engine.write(key, value)
        return json_response({"version": version.to_json()})

    async def get_health(request: web.Request) -> web.Response:
        return json_response({"status": "ok", **health()})

    return [
        web.get("/kv/{key:.*}", get_kv),
        web.put("/kv/{key:.*}", put_kv),
        web.get("/health", get_health),
    ]


def make_app(routes: list[web.RouteDef]) -> web.Application:
    app = web.Application(middlewares=[error_middleware])
    app.add_routes(routes)
    return app
