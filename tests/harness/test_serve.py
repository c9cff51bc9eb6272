"""`quorumlab serve` without a browser: the run index and the HTTP surface."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import orjson
import pytest
from aiohttp.test_utils import TestClient, TestServer

from harness.cli import main
from harness.owner import Owner
from harness.run_folder import create_run_folder
from harness.run_index import list_runs
from harness.web import make_app
from tests.harness.stored_runs import HISTORIES, make_run


def unfinished_run(store: Path, name: str, owner: str | None) -> Path:
    """A run folder with a history and no results.json, owned by ``owner``."""
    folder = create_run_folder(store, name)
    folder.write_json("config.json", {"config": {"name": name, "system": "http"},
                                      "backend": "local", **({"owner": owner} if owner else {})})
    (folder.path / "history.jsonl").write_bytes((HISTORIES / "stale-read.jsonl").read_bytes())
    return folder.path


def dead_owner() -> str:
    """This process with another start time: provably not the process that owned it."""
    me = Owner.current()
    return Owner(socket.gethostname(), me.pid, me.start + 1).to_label()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Runs of every state (made once: each report takes a second to draw)."""
    store = tmp_path_factory.mktemp("serve") / "histories"
    make_run(store, "valid.jsonl", "fine")
    make_run(store, "stale-read.jsonl", "stale")
    unfinished_run(store, "busy", Owner.current().to_label())
    unfinished_run(store, "gone", dead_owner())
    unfinished_run(store, "legacy", None)
    return store


def test_the_index_lists_every_run_once_with_its_state(store: Path) -> None:
    runs = {run.name: run for run in list_runs(store)}
    assert {name: run.state for name, run in runs.items()} == {
        "fine": "valid", "stale": "invalid", "busy": "running", "gone": "crashed",
        "legacy": "crashed"}
    assert runs["stale"].anomalies == {"nonlinearizable": 1, "stale-read": 1}
    assert runs["stale"].has_report and runs["stale"].duration_s == pytest.approx(1.1)
    assert runs["gone"].error == "its owner died before writing results"
    assert runs["legacy"].error == "no results, and no owner recorded"


def test_the_index_is_newest_first(tmp_path: Path) -> None:
    for stamp in ("20240101T000000", "20250101T000000", "20230101T000000"):
        folder = tmp_path / "t" / stamp
        folder.mkdir(parents=True)
        (folder / "config.json").write_bytes(orjson.dumps({"config": {"name": stamp}}))
    assert [run.name for run in list_runs(tmp_path)] == [
        "20250101T000000", "20240101T000000", "20230101T000000"]


async def client_for(store: Path) -> TestClient:
    client = TestClient(TestServer(make_app(store)))
    await client.start_server()
    return client


async def test_the_list_filters_by_name_and_verdict(store: Path) -> None:
    client = await client_for(store)
    try:
        page = await (await client.get("/")).text()
        assert page.count("<tr class='run'") == 5
        page = await (await client.get("/", params={"verdict": "invalid"})).text()
        assert page.count("<tr class='run'") == 1 and "stale/" in page
        assert "/report.html'>stale</a>" in page
        page = await (await client.get("/", params={"name": "FIN"})).text()
        assert page.count("<tr class='run'") == 1 and ">fine</a>" in page
        page = await (await client.get("/", params={"verdict": "running"})).text()
        assert page.count("<tr class='run'") == 1 and ">busy</a>" in page
    finally:
        await client.close()


async def test_files_are_served_read_only_with_their_types(store: Path) -> None:
    client = await client_for(store)
    run = next(run for run in list_runs(store) if run.name == "stale").path
    try:
        for name, kind in (("report.html", "text/html"), ("results.json", "application/json"),
                           ("history.jsonl", "text/plain"), ("latency.png", "image/png")):
            response = await client.get(f"/files/{run}/{name}")
            assert response.status == 200 and response.content_type == kind, name
            assert response.headers["X-Content-Type-Options"] == "nosniff"
        body = await (await client.get(f"/files/{run}/history.jsonl")).read()
        assert body == (store / run / "history.jsonl").read_bytes()
        assert (await client.get("/files/stale/latest/results.json")).status == 200
        for method in ("POST", "PUT", "DELETE"):
            assert (await client.request(method, f"/files/{run}/results.json")).status == 405
    finally:
        await client.close()


async def test_paths_outside_the_store_are_404_symlinks_included(store: Path) -> None:
    secret = store.parent / "secret.txt"
    secret.write_text("not yours")
    os.symlink(secret, store / "link.txt")
    os.symlink(store.parent, store / "up")
    client = await client_for(store)
    try:
        for path in ("/files/../secret.txt", "/files/%2e%2e/secret.txt",
                     "/files/..%2Fsecret.txt", f"/files/{secret}", "/files/%2Fetc%2Fpasswd",
                     "/files/link.txt", "/files/up/secret.txt", "/run/..%2F..",
                     "/check/up", "/files/fine/nothing-here"):
            response = await client.get(path)
            assert response.status == 404, path
            assert "not yours" not in await response.text()
    finally:
        await client.close()


async def test_a_crashed_run_can_still_be_checked(store: Path) -> None:
    client = await client_for(store)
    run = next(run for run in list_runs(store) if run.name == "gone").path
    try:
        page = await (await client.get(f"/run/{run}")).text()
        assert "crashed" in page and f"href='/check/{run}'" in page
        page = await (await client.get(f"/check/{run}")).text()
        assert "INVALID" in page and "stale-read" in page
        assert not (store / run / "report.html").exists(), "checking writes nothing"
    finally:
        await client.close()


def test_bad_arguments_and_a_busy_port_are_one_line_errors(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--store-dir", str(tmp_path / "none")]) == 254
    assert capsys.readouterr().err == (f"quorumlab serve: error: --store-dir "
                                       f"{tmp_path / 'none'}: no such folder\n")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["serve", "--store-dir", str(tmp_path), "--port", str(port)]) == 255
    err = capsys.readouterr().err
    assert err.startswith(f"quorumlab serve: error: cannot listen on 127.0.0.1:{port}: ")
    assert err.count("\n") == 1
