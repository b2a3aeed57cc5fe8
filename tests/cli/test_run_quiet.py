"""``fleet run -q`` silences the worker processes' log lines too, not only the progress line."""

from __future__ import annotations

import importlib
import logging
import pathlib
from typing import Any

import pytest
from click.testing import CliRunner

from fleet.cli.run import QUIET_LOG_LEVEL, run

from .test_run import write

SCENARIO = "version: 1\nserver: coap://127.0.0.1:1\nduration: 1s\ngroups: [{count: 4}]\n"


run_module = importlib.import_module("fleet.cli.run")  # the module, not the command


class Stop(Exception):
    """Raised by the stand-in pool: the test only wants its arguments."""


@pytest.mark.parametrize(("flags", "level"), [(["-q"], QUIET_LOG_LEVEL), ([], logging.WARNING)])
def test_workers_get_the_log_level_of_the_command(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, flags: list[str], level: int
) -> None:
    seen: dict[str, Any] = {}

    def pool(*args: object, **kwargs: Any) -> None:
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(run_module, "WorkerPool", pool)
    path = write(tmp_path, SCENARIO)
    result = CliRunner().invoke(run, [str(path), "--workers", "2", *flags])
    assert isinstance(result.exception, Stop)
    assert seen["log_level"] == level
    assert QUIET_LOG_LEVEL > logging.CRITICAL  # not even a critical line from a worker
