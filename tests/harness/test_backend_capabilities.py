"""Each backend offers what it declares: the CLI's refusal trusts CAPABILITIES."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.backends import backend_class, create_backend
from harness.backends.base import ClusterSpec
from nemesis.capabilities import CAPABILITY_NAMES


@pytest.mark.parametrize("name", ["local", "docker"])
def test_every_declared_capability_is_implemented(name: str, tmp_path: Path) -> None:
    spec = ClusterSpec(run_id="t", run_dir=tmp_path, nodes=("n1", "n2", "n3"), n=3, r=2, w=2)
    backend = create_backend(name, spec)  # nothing starts before setup()
    declared = backend_class(name).CAPABILITIES
    assert declared == set(CAPABILITY_NAMES), "both backends offer every capability today"
    for capability in declared:
        assert isinstance(backend.capability(capability), capability), capability


def test_an_unknown_backend_is_a_one_line_error() -> None:
    with pytest.raises(ValueError, match="unknown backend 'ssh'"):
        backend_class("ssh")
