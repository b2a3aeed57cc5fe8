"""pytester set-up for the plugin's tests: each example suite runs in process with the plugin."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Protocol

import pytest

pytest_plugins = ["pytester"]

INI = """
[pytest]
asyncio_mode = strict
asyncio_default_fixture_loop_scope = function
filterwarnings =
    error
    ignore:Module already imported so cannot be rewritten:pytest.PytestAssertRewriteWarning
addopts = --strict-markers
"""


def plugin_installed() -> bool:
    """Whether the ``pytest11`` entry point already loads the plugin."""
    return any(ep.value == "fleet.testing.plugin" for ep in entry_points(group="pytest11"))


class Run(Protocol):
    def __call__(self, source: str, *args: str) -> pytest.RunResult: ...


@pytest.fixture
def run(pytester: pytest.Pytester) -> Run:
    """Write ``source`` as a test module and run it in process with the plugin loaded."""
    pytester.makeini(INI)

    def run(source: str, *args: str) -> pytest.RunResult:
        pytester.makepyfile(test_example=source)
        plugin = () if plugin_installed() else ("-p", "fleet.testing.plugin")
        return pytester.runpytest(*plugin, "-p", "no:cacheprovider", *args)

    return run
