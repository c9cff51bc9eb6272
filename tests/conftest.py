"""Shared pytest fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATASETS = REPO.parent / "shared" / "datasets"


@pytest.fixture
def datasets() -> Path:
    """../shared/datasets beside the checkout; skips when absent (a user's clone)."""
    if not DATASETS.is_dir():
        pytest.skip(f"{DATASETS} is absent (external datasets are not part of the repo)")
    return DATASETS
