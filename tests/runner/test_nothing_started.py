"""``validate`` and ``run`` judge a scenario the same way, and a run that started nothing fails.

A lifetime of 1e12 passed ``fleet validate`` while ``fleet run`` refused every device (the
device configuration allows 1..2**32-1 s) and exited 0, as if the run had tested something.
"""

from __future__ import annotations

import asyncio
import pathlib
import random

import pytest
from click.testing import CliRunner

from fleet.cli.run import run
from fleet.cli.scenario import validate
from fleet.client.config import DeviceConfig
from fleet.clock import Clock, ManualClock
from fleet.errors import FleetError
from fleet.metrics import Summary
from fleet.runner.devices import DeviceLike
from fleet.runner.fleet import EXIT_ERROR, EXIT_OK, Fleet, exit_status

from .test_shard import FakeDevice, make_scenario

LIFETIME = """version: 1
server: coap://127.0.0.1:9
duration: 1s
groups:
  - name: g
    count: 3
    lifetime: {lifetime}
"""


@pytest.mark.parametrize("command", [validate, run])
def test_validate_and_run_refuse_a_lifetime_beyond_32_bits(
    tmp_path: pathlib.Path, command: object
) -> None:
    path = tmp_path / "lt.yaml"
    path.write_text(LIFETIME.format(lifetime=10**12), encoding="utf-8")
    result = CliRunner().invoke(command, [str(path)])  # type: ignore[arg-type]
    assert result.exit_code == 2, result.output
    assert f"{path}:7:15: groups.0.lifetime must be at most 4294967295 s" in result.output
    assert "Traceback" not in result.output


def test_the_largest_lifetime_is_valid(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "lt.yaml"
    path.write_text(LIFETIME.format(lifetime=2**32 - 1), encoding="utf-8")
    result = CliRunner().invoke(validate, [str(path)])
    assert result.exit_code == 0, result.output


async def _run(fails: set[int]) -> Summary:
    log: list[tuple[float, str, str]] = []

    def factory(config: DeviceConfig, clk: Clock, rng: random.Random) -> DeviceLike:
        if int(config.endpoint[1:]) in fails:
            raise FleetError(f"{config.endpoint}: refused")
        return FakeDevice(config, clk, log)

    clock = ManualClock()
    fleet = Fleet(make_scenario("", count=4), clock=clock, factory=factory, drain=0.0)
    task = asyncio.ensure_future(fleet.run())
    for _ in range(200):
        await clock.advance(1)
        if task.done():
            break
    return await asyncio.wait_for(task, 5.0)


@pytest.mark.asyncio
async def test_a_run_in_which_no_device_could_start_fails() -> None:
    summary = await _run({0, 1, 2, 3})
    assert summary.device_states["could_not_start"] == 4
    assert exit_status(summary) == EXIT_ERROR
    assert "could_not_start 4" in summary.table()


@pytest.mark.asyncio
async def test_a_run_in_which_some_devices_started_passes() -> None:
    summary = await _run({1})
    assert summary.device_states["could_not_start"] == 1
    assert exit_status(summary) == EXIT_OK
    merged = Summary.merge_all([summary, await _run({0, 1, 2, 3})])
    assert merged.device_states["could_not_start"] == 5 and exit_status(merged) == EXIT_OK


@pytest.mark.parametrize(
    ("value", "why"),
    [(".nan", "nan is not a finite number"), ("-.inf", "-inf is not a finite number")],
)
def test_a_scenario_value_without_json_form_is_refused_with_its_place(
    tmp_path: pathlib.Path, value: str, why: str
) -> None:
    path = tmp_path / "nan.yaml"
    path.write_text(
        LIFETIME.format(lifetime=60)
        + f'    objects: {{3442: [0]}}\n    values: {{"/3442/0/130": {value}}}\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(validate, [str(path)])
    assert result.exit_code == 2, result.output
    assert f"{path}:9:" in result.output and why in result.output
