"""``fleet run -``: the scenario from standard input, problems as ``<stdin>:line:col``."""

from __future__ import annotations

import json
import pathlib

import pytest
from click.testing import CliRunner

from fleet.cli.run import run
from fleet.server import Lwm2mServer

from .test_run import SCENARIO


def test_a_bad_scenario_on_stdin_is_reported_as_stdin_line_col() -> None:
    result = CliRunner().invoke(
        run, ["-", "--quiet"], input=SCENARIO.replace("count: 20", "count: many")
    )
    assert result.exit_code == 2, result.output
    assert "<stdin>:7:12: " in result.output and "count" in result.output


def test_stdin_that_is_not_text_is_refused() -> None:
    result = CliRunner().invoke(run, ["-", "--quiet"], input=b"version: 1\n\xff\xfe\n")
    assert result.exit_code == 2, result.output
    assert "<stdin>: the input is not UTF-8 text" in result.output


@pytest.mark.slow
def test_a_scenario_from_stdin_runs_on_every_worker(
    tmp_path: pathlib.Path, server: Lwm2mServer
) -> None:
    out = tmp_path / "summary.json"
    args = ["-", "--server", server.uri, "--devices", "6", "--workers", "2", "--quiet"]
    result = CliRunner().invoke(run, [*args, "--summary-json", str(out)], input=SCENARIO)
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert (data["shards"], data["operations"]["register"]["count"]) == (2, 6)
    assert data["scenario_path"] == "-"
    assert server.counters.registrations == 6
