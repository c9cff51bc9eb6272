"""Finding a cluster by name, or as the only live one; liveness is the owner's."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.owner import Owner
from harness.session.display import grudge_text
from harness.session.state import NoCluster, SessionState, find_cluster, register

DEAD = "host-that-is-not-here:1:1"


def _cluster(store: Path, name: str, owner: str | None, state: str = "up") -> SessionState:
    folder = store / name / "20260101T000000"
    folder.mkdir(parents=True)
    session = SessionState(name=name, folder=folder, backend="local", run_id=f"ql-{name}",
                           state=state, owner=owner)
    session.write()
    register(store, name, folder)
    return session


def test_the_only_live_cluster_is_found_without_a_name(tmp_path: Path) -> None:
    me = Owner.current()
    dead = Owner(me.host, me.pid, me.start + 1).to_label()  # this pid, another process
    _cluster(tmp_path, "gone", dead)
    _cluster(tmp_path, "alive", me.to_label())
    assert find_cluster(tmp_path, None).name == "alive"
    assert find_cluster(tmp_path, "gone").live() is False  # by name: found, dead or not


def test_no_or_several_live_clusters_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(NoCluster, match="no live cluster"):
        find_cluster(tmp_path, None)
    with pytest.raises(NoCluster, match="no cluster named 'x'"):
        find_cluster(tmp_path, "x")
    me = Owner.current()
    _cluster(tmp_path, "lost", Owner(me.host, me.pid, me.start + 1).to_label())
    with pytest.raises(NoCluster, match="lost lost its supervisor"):
        find_cluster(tmp_path, None)
    _cluster(tmp_path, "a", me.to_label())
    _cluster(tmp_path, "b", me.to_label())
    with pytest.raises(NoCluster, match=r"2 live clusters .*\(a, b\): pass --name"):
        find_cluster(tmp_path, None)


def test_a_down_cluster_is_not_live_even_if_its_owner_is(tmp_path: Path) -> None:
    state = _cluster(tmp_path, "done", Owner.current().to_label(), state="down")
    assert not state.live()


def test_grudges_read_as_components_when_they_are() -> None:
    assert grudge_text({"n1": ["n3"], "n2": ["n3"], "n3": ["n1", "n2"]}) == "n1,n2 | n3"
    assert grudge_text({"n1": ["n2"]}) == "(n1 drops n2)"
