"""Fixtures for the model tests: where the OMA registry snapshot lives (read in place)."""

from __future__ import annotations

import pathlib

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
OMA_REGISTRY = REPO_ROOT.parent / "shared" / "oma-registry"


@pytest.fixture(scope="session")
def oma_registry() -> pathlib.Path:
    """The registry snapshot next to the repository (``../shared/oma-registry``)."""
    assert OMA_REGISTRY.is_dir(), f"the OMA registry snapshot is missing: {OMA_REGISTRY}"
    return OMA_REGISTRY
