"""The web UI of `quorumlab serve`: the run list, one page per run, and its files.

Read-only by construction: only GET (and HEAD) routes exist, and nothing
here writes to the store; checking a crashed run's history renders its
report in memory. Every file path is resolved (symlinks included) and
served only if it lands inside the store; anything else is a 404, the
same answer as a file that does not exist, so the server says nothing
about what lies outside. Files go out with a content type chosen from a
short list (text for histories and logs, so a browser shows them), and
``nosniff`` so a browser never guesses another.
"""

from __future__ import annotations

import asyncio
import html
import os
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from harness.run_index import STATES, RunEntry, list_runs, read_run

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".json": "application/json",
    ".jsonl": "text/plain; charset=utf-8",
    ".log": "text/plain; charset=utf-8",
    ".edn": "text/plain; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".md": "text/plain; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
FALLBACK_TYPE = "application/octet-stream"
STORE = web.AppKey("store", Path)
CHUNK = 1 << 16
CHECK_SECONDS = 10.0  # linearizability budget of an on-demand check
STATE_COLOURS = {"valid": "#137333", "invalid": "#c5221f", "unknown": "#b06000",
                 "running": "#1a73e8", "crashed": "#6d4c41", "incomplete": "#8e24aa",
                 "failed": "#5f6368"}
# Our pages and the reports need inline style and data: images, nothing else.
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff",
                    "Content-Security-Policy": "default-src 'none'; img-src 'self' data:; "
                                               "style-src 'unsafe-inline'"}
STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 80em; padding: 0 1em; color: #222; }
table { border-collapse: collapse; width: 100%; } th, td { border-bottom: 1px solid #ddd;
padding: .35em .6em; text-align: left; } th { background: #f3f3f3; }
.state { color: #fff; padding: .1em .5em; border-radius: .3em; font-size: .9em; }
form { margin: 1em 0; } input, select, button { font-size: 1em; padding: .2em .4em; }
.muted { color: #666; } pre { background: #f6f6f6; padding: .8em; }
"""


def make_app(store: Path) -> web.Application:
    """The application serving ``store`` (resolved once: every path is checked against it)."""
    app = web.Application()
    app.on_response_prepare.append(_security_headers)
    app[STORE] = Path(os.path.realpath(store))
    app.router.add_get("/", run_list)
    app.router.add_get("/run/{path:.+}", run_page)
    app.router.add_get("/check/{path:.+}", check_run)
    app.router.add_get("/files/{path:.+}", serve_file)
    return app


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """On every response, errors and streamed files included, before its headers go out."""
    response.headers.update(SECURITY_HEADERS)


def inside_store(store: Path, relative: str) -> Path | None:
    """``relative`` resolved, symlinks followed; None unless it lies inside ``store``."""
    if "\0" in relative:
        return None
    real = Path(os.path.realpath(store / relative))
    return real if real == store or store in real.parents else None


def _page(title: str, body: str) -> web.Response:
    return web.Response(
        text=f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
             f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
             f"<body>{body}</body></html>", content_type="text/html", charset="utf-8")


def _badge(state: str) -> str:
    return (f"<span class='state {state}' style='background:{STATE_COLOURS[state]}'>"
            f"{state}</span>")


def _link(path: str) -> str:
    return quote(path, safe="/")


async def run_list(request: web.Request) -> web.Response:
    store = request.app[STORE]
    name = request.query.get("name", "").strip()
    state = request.query.get("verdict", "")
    runs = await asyncio.to_thread(list_runs, store)
    shown = [run for run in runs if name.lower() in run.name.lower()
             and (not state or run.state == state)]
    options = "".join(f"<option value='{s}'{' selected' if s == state else ''}>"
                      f"{s or 'any'}</option>" for s in ("", *STATES))
    rows = "".join(_run_row(run) for run in shown)
    body = (f"<h1>quorumlab runs</h1><p class='muted'>{html.escape(str(store))}: "
            f"{len(shown)} of {len(runs)} runs, newest first</p>"
            "<form method='get' action='/'>"
            f"<label>name <input name='name' id='name' value='{html.escape(name)}'></label> "
            f"<label>verdict <select name='verdict' id='verdict'>{options}</select></label> "
            "<button type='submit' id='filter'>filter</button></form>"
            "<table id='runs'><tr><th>name</th><th>started</th><th>system</th><th>verdict</th>"
            "<th>anomalies</th><th>duration</th><th>files</th></tr>" + rows + "</table>"
            + ("" if shown else "<p>No run matches.</p>"))
    return _page("quorumlab runs", body)


def _run_row(run: RunEntry) -> str:
    target = (f"/files/{_link(run.path)}/report.html" if run.has_report
              else f"/run/{_link(run.path)}")
    anomalies = ", ".join(f"{n} {html.escape(kind)}" for kind, n in run.anomalies.items())
    duration = "" if run.duration_s is None else f"{run.duration_s:.0f} s"
    system = html.escape(" ".join(part for part in (run.system, run.backend) if part))
    return (f"<tr class='run' data-state='{run.state}'>"
            f"<td><a class='report' href='{target}'>{html.escape(run.name)}</a><br>"
            f"<span class='muted'>{html.escape(run.path)}</span></td>"
            f"<td>{run.started_text}</td><td>{system}</td><td>{_badge(run.state)}</td>"
            f"<td>{anomalies or '—'}</td><td>{duration}</td>"
            f"<td><a href='/run/{_link(run.path)}'>files</a></td></tr>")


async def run_page(request: web.Request) -> web.Response:
    store = request.app[STORE]
    folder = _run_folder(store, request.match_info["path"])
    run = await asyncio.to_thread(read_run, store, folder)
    files = await asyncio.to_thread(_files_of, folder)
    items = "".join(f"<li><a href='/files/{_link(run.path)}/{_link(name)}'>"
                    f"{html.escape(name)}</a> <span class='muted'>{size} bytes</span></li>"
                    for name, size in files)
    parts = [f"<p><a href='/'>all runs</a></p><h1>{html.escape(run.name)} "
             f"{_badge(run.state)}</h1><p class='muted'>{html.escape(run.path)}, started "
             f"{run.started_text}</p>"]
    if run.error:
        parts.append(f"<p>{html.escape(run.error)}</p>")
    if run.has_report:
        parts.append(f"<p><a href='/files/{_link(run.path)}/report.html'>report</a></p>")
    if (folder / "history.jsonl").is_file() and run.state in ("crashed", "incomplete",
                                                             "failed", "running"):
        parts.append(f"<p>The history can still be checked: <a id='check' "
                     f"href='/check/{_link(run.path)}'>check it now</a> (nothing is written), "
                     f"or run <code>quorumlab check {html.escape(str(folder))} --report "
                     "report.html</code>.</p>")
    parts.append(f"<h2>Files</h2><ul>{items}</ul>")
    return _page(run.name, "".join(parts))


def _run_folder(store: Path, relative: str) -> Path:
    folder = inside_store(store, relative)
    if folder is None or not any((folder / marker).is_file() for marker in
                                 ("config.json", "history.jsonl")):
        raise web.HTTPNotFound()
    return folder


def _files_of(folder: Path) -> list[tuple[str, int]]:
    """The run's files and the nodes' logs (not node data directories)."""
    found = [(p.name, p.stat().st_size) for p in sorted(folder.iterdir()) if p.is_file()]
    nodes = folder / "nodes"
    if nodes.is_dir():
        found += [(f"nodes/{p.name}", p.stat().st_size) for p in sorted(nodes.iterdir())
                  if p.is_file()]
    return found


async def check_run(request: web.Request) -> web.Response:
    """Check a run's history now and show its report, written nowhere."""
    store = request.app[STORE]
    folder = _run_folder(store, request.match_info["path"])
    page = await asyncio.to_thread(_checked_page, folder)
    return web.Response(text=page, content_type="text/html", charset="utf-8")


def _checked_page(folder: Path) -> str:
    from checkers.api import check
    from checkers.errors import HistoryError
    from checkers.formats import load_history
    from harness.check_command import check_page
    from harness.report import render_report

    history_file = folder / "history.jsonl"
    try:
        history = load_history(history_file, "jsonl")
        report = check(history, time_limit=CHECK_SECONDS)
    except HistoryError as exc:
        return f"<!doctype html><p>Cannot check {html.escape(str(history_file))}: " \
               f"{html.escape(str(exc))}</p>"
    page = check_page(history_file, "jsonl", history, report)
    page.replay, page.replay_label = f"quorumlab check {folder}", "Check again"
    return render_report(page)


async def serve_file(request: web.Request) -> web.StreamResponse:
    store = request.app[STORE]
    path = inside_store(store, request.match_info["path"])
    if path is None or not path.is_file():
        raise web.HTTPNotFound()
    response = web.StreamResponse(headers={
        "Content-Type": CONTENT_TYPES.get(path.suffix.lower(), FALLBACK_TYPE)})
    response.content_length = path.stat().st_size
    await response.prepare(request)
    if request.method != "HEAD":
        with path.open("rb") as source:
            while chunk := source.read(CHUNK):
                await response.write(chunk)
    await response.write_eof()
    return response
