"""`--backend auto` means it works: docker only when its image can be made ready."""

from __future__ import annotations

import pytest

import harness.backends.docker.image
import harness.run_command
from harness.backends.docker.bootstrap import ImageBuildError
from harness.config import RunConfig
from harness.run_command import choose_backend


@pytest.fixture
def daemon_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness.run_command, "docker_available", lambda: True)


def test_auto_falls_back_to_local_with_one_line_when_the_image_cannot_be_built(
        daemon_answers: None, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    def broken_build(*_args: object, **_kwargs: object) -> str:
        raise ImageBuildError("no wheel of orjson==9.9.9 on the package index")

    monkeypatch.setattr(harness.backends.docker.image, "ensure_image", broken_build)
    assert choose_backend(RunConfig(backend="auto")) == "local"
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "orjson==9.9.9" in err and "local backend" in err


def test_auto_takes_docker_when_the_image_is_ready(
        daemon_answers: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness.backends.docker.image, "ensure_image", lambda *a, **k: "img:tag")
    assert choose_backend(RunConfig(backend="auto")) == "docker"


def test_named_docker_is_never_swapped_for_local(daemon_answers: None,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_build(*_args: object, **_kwargs: object) -> str:
        raise AssertionError("--backend docker builds in setup, where failure is an error")

    monkeypatch.setattr(harness.backends.docker.image, "ensure_image", must_not_build)
    assert choose_backend(RunConfig(backend="docker")) == "docker"


def test_named_docker_without_a_daemon_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness.run_command, "docker_available", lambda: False)
    assert choose_backend(RunConfig(backend="docker")) is None
    assert choose_backend(RunConfig(backend="auto")) == "local"
