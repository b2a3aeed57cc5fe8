"""Helpers for the scenario tests: write a scenario into a temporary folder and load it."""

from __future__ import annotations

import pathlib
import textwrap
from collections.abc import Callable, Sequence

import pytest

from fleet.scenario import Scenario, ScenarioErrors, Setting, load_scenario

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
SCENARIOS = REPO_ROOT / "scenarios"

Load = Callable[..., Scenario]
Problems = Callable[..., list[str]]


@pytest.fixture
def write(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], str]:
    """Write ``text`` (dedented) to ``name`` in a temporary working folder; return ``name``."""
    monkeypatch.chdir(tmp_path)

    def writer(text: str, name: str = "s.yaml") -> str:
        (tmp_path / name).write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return name

    return writer


@pytest.fixture
def load(write: Callable[[str, str], str]) -> Load:
    """Load a scenario from text written to ``s.yaml``."""

    def loader(
        text: str, *, settings: Sequence[Setting] = (), objects_dirs: Sequence[pathlib.Path] = ()
    ) -> Scenario:
        return load_scenario(write(text, "s.yaml"), settings=settings, objects_dirs=objects_dirs)

    return loader


@pytest.fixture
def problems(load: Load) -> Problems:
    """The ``file:line:col: message`` lines a scenario text gives (it must be invalid)."""

    def finder(text: str, **kwargs: object) -> list[str]:
        with pytest.raises(ScenarioErrors) as caught:
            load(text, **kwargs)
        return caught.value.lines()

    return finder


MINIMAL = """
version: 1
groups:
  - count: 2
"""
