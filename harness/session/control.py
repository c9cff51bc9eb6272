"""The shell commands' side of the supervisor's API: find the cluster, ask, answer.

Plain http.client over the Unix socket: a command that only asks one question
need not start an event loop. Every failure becomes one line and a documented
exit code (`session_command`): 254 for what the user asked wrongly (no such
cluster, a refused request), 255 when the supervisor cannot answer, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from checkers.exits import EXIT_BAD_INPUT, EXIT_HARNESS_FAILURE, EXIT_INTERRUPTED
from harness.session.state import NoCluster, SessionState, find_cluster

REQUEST_TIMEOUT_S = 120.0  # a heal waits up to a minute for nodes to serve again


class Refused(ValueError):
    """The supervisor refused the request (bad input); its one line."""


class Unreachable(RuntimeError):
    """The supervisor did not answer; one line."""


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("supervisor", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def add_lookup_options(parser: argparse.ArgumentParser) -> None:
    """--name and --store-dir, as `quorumlab run` has them."""
    parser.add_argument("--name", default=None,
                        help="the cluster's name (default: the only live cluster)")
    parser.add_argument("--store-dir", default="histories",
                        help="where clusters and runs are recorded (default %(default)s)")


def lookup(args: argparse.Namespace) -> SessionState:
    return find_cluster(Path(args.store_dir).resolve(), args.name)


def live(state: SessionState) -> SessionState:
    """``state`` if its supervisor answers for it, else Unreachable."""
    if not state.live():
        why = state.error or (f"its supervisor (pid {state.pid}) is gone" if state.pid
                              else f"it is {state.state}")
        raise Unreachable(f"cluster {state.name} is not up: {why} "
                          f"(`quorumlab cluster down --name {state.name}` forgets it)")
    return state


def _open(state: SessionState, method: str, path: str, body: dict[str, Any] | None,
          timeout: float) -> tuple[_UnixConnection, http.client.HTTPResponse]:
    connection = _UnixConnection(str(live(state).socket), timeout)
    try:
        connection.request(method, path, body=orjson.dumps(body) if body is not None else None,
                           headers={"Content-Type": "application/json"})
        response = connection.getresponse()
    except (OSError, http.client.HTTPException) as exc:
        connection.close()
        raise Unreachable(f"the supervisor of cluster {state.name} did not answer: {exc}") from None
    if response.status != 200:
        try:
            message = orjson.loads(response.read()).get("error", response.reason)
        except (orjson.JSONDecodeError, AttributeError, OSError):
            message = response.reason
        connection.close()
        raise (Refused if response.status == 400 else Unreachable)(str(message))
    return connection, response


def call(state: SessionState, method: str, path: str, body: dict[str, Any] | None = None,
         timeout: float = REQUEST_TIMEOUT_S) -> dict[str, Any]:
    """One request; its JSON answer."""
    connection, response = _open(state, method, path, body, timeout)
    try:
        return orjson.loads(response.read())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise Unreachable(f"the supervisor of cluster {state.name} broke off: {exc}") from None
    finally:
        connection.close()


def stream(state: SessionState, path: str, body: dict[str, Any],
           timeout: float) -> Iterator[dict[str, Any]]:
    """A request answered in JSON lines, one at a time as they come."""
    connection, response = _open(state, "POST", path, body, timeout)
    try:
        if response.headers.get_content_type() == "application/json":
            yield orjson.loads(response.read())  # answered before it streamed anything
            return
        while line := response.readline():
            yield orjson.loads(line)
    except (OSError, orjson.JSONDecodeError, http.client.HTTPException) as exc:
        raise Unreachable(f"the supervisor of cluster {state.name} broke off: {exc}") from None
    finally:
        connection.close()


def session_command(command: str) -> Callable[[Callable[[argparse.Namespace], int]],
                                              Callable[[argparse.Namespace], int]]:
    """Turn the errors every session command can meet into one line and an exit code."""

    def wrap(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        @functools.wraps(func)
        def run(args: argparse.Namespace) -> int:
            try:
                return func(args)
            except (NoCluster, Refused, ValueError) as exc:  # ConfigError is a ValueError
                sys.stderr.write(f"quorumlab {command}: error: {exc}\n")
                return EXIT_BAD_INPUT
            except Unreachable as exc:
                sys.stderr.write(f"quorumlab {command}: error: {exc}\n")
                return EXIT_HARNESS_FAILURE
            except KeyboardInterrupt:
                sys.stderr.write(f"quorumlab {command}: interrupted\n")
                return EXIT_INTERRUPTED

        return run

    return wrap
