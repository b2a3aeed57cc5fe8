"""``fleet run``: exit statuses, summary on stdout, JSON file, against a real server."""

from __future__ import annotations

import json
import pathlib

import pytest
from click.testing import CliRunner

from fleet.cli.run import run
from fleet.server import Lwm2mServer

SCENARIO = """
version: 1
server: coap://127.0.0.1:1
seed: 1
duration: 2s
groups:
  - count: 20
    endpoint: "cli-{index:03d}"
    objects:
      3303: [0]
    generators:
      "/3303/0/5700": {kind: random_walk, min: 18, max: 26, step: 0.5, every: 1s}
thresholds:
  register_failed: ["rate==0"]
"""


def write(tmp_path: pathlib.Path, text: str) -> pathlib.Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_invalid_scenario_exits_2_with_file_line_col(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, SCENARIO.replace("count: 20", "count: many"))
    result = CliRunner().invoke(run, [str(path), "--quiet"])
    assert result.exit_code == 2
    assert f"{path}:" in result.output and "count" in result.output


@pytest.mark.slow
def test_run_prints_the_summary_and_writes_json(
    tmp_path: pathlib.Path, server: Lwm2mServer
) -> None:
    path = write(tmp_path, SCENARIO)
    out = tmp_path / "summary.json"
    result = CliRunner().invoke(
        run,
        [
            str(path),
            "--server",
            server.uri,
            "--devices",
            "12",
            "--summary-json",
            str(out),
            "--quiet",
            "--ascii",
        ],
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    register = next(line.split() for line in lines if line.startswith("register "))
    assert register[1:3] == ["12", "0"]  # count, failed
    assert any("ok" in line and "register_failed" in line for line in lines)
    data = json.loads(out.read_text())
    assert data["schema_version"] == 1
    assert data["devices"] == 12
    assert data["operations"]["register"]["count"] == 12
    assert data["operations"]["deregister"]["count"] == 12
    assert data["thresholds"][0]["status"] == "passed"
    assert server.counters.registrations == 12
    assert server.counters.deregistrations == 12


@pytest.mark.slow
def test_env_sets_the_server_and_a_failed_threshold_exits_99(
    tmp_path: pathlib.Path, server: Lwm2mServer
) -> None:
    path = write(tmp_path, SCENARIO + '  register_duration: ["max<0.001ms"]\n')
    result = CliRunner(env={"FLEET_SERVER": server.uri, "FLEET_DEVICES": "5"}).invoke(
        run, [str(path), "--quiet", "--ascii", "--duration", "1s"]
    )
    assert result.exit_code == 99, result.output
    assert any(
        "FAIL" in line and "register_duration" in line for line in result.output.splitlines()
    )
    assert server.counters.registrations == 5


def test_bad_shard_numbers_exit_2(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, SCENARIO)
    result = CliRunner(env={"JOB_COMPLETION_INDEX": "3", "FLEET_SHARD_COUNT": "2"}).invoke(
        run, [str(path), "--quiet"]
    )
    assert result.exit_code == 2
    assert "shard index must be in 0..1" in result.output
    alone = CliRunner(env={"JOB_COMPLETION_INDEX": "0"}).invoke(run, [str(path), "--quiet"])
    assert alone.exit_code == 2
    assert "without a shard count (--shard-count, FLEET_SHARD_COUNT)" in alone.output
    counted = CliRunner(env={"FLEET_SHARD_COUNT": "4"}).invoke(run, [str(path), "--quiet"])
    assert counted.exit_code == 2
    assert "every machine would run slice 0" in counted.output


def test_a_fleet_that_cannot_fit_fails_before_starting(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("fleet.runner.limits.open_file_limits", lambda: (256, 256))
    path = write(tmp_path, SCENARIO)
    result = CliRunner().invoke(run, [str(path), "--quiet", "--workers", "1", "--devices", "300"])
    assert result.exit_code == 1
    assert "does not fit this machine" in result.output and "--workers 2 or more" in result.output


@pytest.mark.slow
def test_a_machine_slice_in_two_workers(tmp_path: pathlib.Path, server: Lwm2mServer) -> None:
    path = write(tmp_path, SCENARIO)
    out = tmp_path / "summary.json"
    env = {"JOB_COMPLETION_INDEX": "1", "FLEET_SHARD_COUNT": "2", "FLEET_WORKERS": "2"}
    result = CliRunner(env=env).invoke(
        run,
        [str(path), "--server", server.uri, "--summary-json", str(out), "--progress-interval", "1"],
    )
    assert result.exit_code == 0, result.output
    assert "this machine runs devices 10..19 of 20 (shard 1 of 2)" in result.output
    data = json.loads(out.read_text())
    assert (data["devices"], data["shards"]) == (10, 2)
    assert data["operations"]["register"]["count"] == 10
    names = sorted(record.endpoint for record in server.devices())
    assert names == [f"cli-{i:03d}" for i in range(10, 20)]
