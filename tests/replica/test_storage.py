"""The sqlite store: highest version wins, durability, group commit, bug modes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from replica import storage
from replica.storage import Store
from replica.version import Version

REPO = Path(__file__).resolve().parents[2]


async def test_highest_version_wins_in_memory_and_on_disk(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)
    assert await store.put("k", '"b"', Version(2, "x")) == Version(2, "x")
    assert await store.put("k", '"a"', Version(1, "z")) == Version(2, "x")  # older: kept out
    assert await store.put("k", '"c"', Version(2, "y")) == Version(2, "y")
    assert store.get("k").value_json == '"c"'
    await store.close()
    reopened = await Store.open(tmp_path)
    assert reopened.get("k").version == Version(2, "y")
    assert reopened.boot == 2  # incarnation counter for writer ids
    await reopened.close()


async def test_concurrent_writes_share_transactions_with_group_commit(tmp_path: Path) -> None:
    grouped = await Store.open(tmp_path / "g")
    await asyncio.gather(*(grouped.put(f"k{i}", "1", Version(1, "w")) for i in range(50)))
    single = await Store.open(tmp_path / "s", group_commit=False)
    await asyncio.gather(*(single.put(f"k{i}", "1", Version(1, "w")) for i in range(50)))
    assert single.commits == 50
    assert grouped.commits < 10
    assert len(grouped) == len(single) == 50
    await grouped.close()
    await single.close()


async def test_batch_with_two_versions_of_one_key_keeps_the_newest(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)
    await asyncio.gather(store.put("k", '"new"', Version(5, "a")),
                         store.put("k", '"old"', Version(4, "a")))
    assert store.get("k").value_json == '"new"'
    await store.close()
    reopened = await Store.open(tmp_path)
    assert reopened.get("k").value_json == '"new"'
    await reopened.close()


async def test_amnesia_wipes_records(tmp_path: Path) -> None:
    store = await Store.open(tmp_path)
    await store.put("k", "1", Version(1, "w"))
    await store.close()
    wiped = await Store.open(tmp_path, amnesia=True)
    assert wiped.get("k") is None
    await wiped.close()


_WRITER = textwrap.dedent("""
    import asyncio, sys
    from pathlib import Path
    from replica.storage import Store
    from replica.version import Version

    async def main():
        store = await Store.open(Path(sys.argv[1]), async_commit=sys.argv[2] == "async")
        await store.put("k", '"v"', Version(1, "w"))
        print("acked", flush=True)
        await asyncio.sleep(60)

    asyncio.run(main())
""")


def _write_then_sigkill(data_dir: Path, mode: str) -> None:
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(data_dir), mode],
                            cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "acked"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(timeout=10)


@pytest.mark.parametrize(("mode", "survives"), [("sync", True), ("async", False)])
async def test_acknowledged_write_survives_sigkill_unless_async_commit(
        tmp_path: Path, mode: str, survives: bool) -> None:
    _write_then_sigkill(tmp_path, mode)
    store = await Store.open(tmp_path)
    assert (store.get("k") is not None) is survives
    await store.close()


async def test_async_commit_flushes_in_the_background(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(storage, "ASYNC_FLUSH_INTERVAL", 0.05)
    store = await Store.open(tmp_path, async_commit=True)
    await store.put("k", "1", Version(1, "w"))
    assert store.get("k") is not None and store.commits == 0  # acknowledged, not durable
    for _ in range(100):
        if store.commits:
            break
        await asyncio.sleep(0.01)
    assert store.commits == 1
    await store.close()
