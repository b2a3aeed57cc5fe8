"""A device that cannot be configured or built (e.g. no key for it) fails alone: it counts
as a failed Register and every other device of the shard still arrives on time."""

from __future__ import annotations

import logging
import random
from typing import Any

import pytest

from fleet.client.config import DeviceConfig
from fleet.client.credentials import CredentialError
from fleet.clock import Clock, ManualClock
from fleet.errors import FleetError
from fleet.metrics import Operation, RunMetrics
from fleet.runner import shard as shard_module
from fleet.runner.devices import DeviceLike
from fleet.runner.shard import Shard
from fleet.scenario import Scenario

from .test_shard import FakeDevice, make_scenario

pytestmark = pytest.mark.asyncio

PHASES = "phases:\n  - {duration: 10s, arrivalCount: 10}"


async def run(scenario: Scenario, factory_fails_for: int | None = None) -> tuple[Shard, list[str]]:
    log: list[tuple[float, str, str]] = []

    def factory(config: DeviceConfig, clk: Clock, rng: random.Random) -> DeviceLike:
        if config.endpoint == f"d{factory_fails_for}":
            raise FleetError(f"{config.endpoint}: cannot build this one")
        return FakeDevice(config, clk, log)

    clock = ManualClock()
    shard = Shard(scenario, clock=clock, factory=factory, metrics=RunMetrics())
    shard.start()
    await clock.advance(20)
    return shard, [name for _, what, name in log if what == "start"]


async def test_a_factory_error_fails_one_device_and_the_rest_arrive(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="fleet.runner"):
        shard, started = await run(make_scenario(PHASES), factory_fails_for=3)
    assert started == [f"d{i}" for i in range(10) if i != 3]
    register = shard.metrics.operations[Operation.REGISTER]
    assert (register.count, register.failures) == (10, 1)
    assert shard.bridge.errors == 1
    assert shard.states()["registered"] == 9
    assert any(
        "device 3" in r.getMessage() and "cannot build" in r.getMessage() for r in caplog.records
    )


async def test_a_credential_error_fails_one_device_and_the_rest_arrive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = shard_module.device_config

    def device_config(scenario: Scenario, index: int, **settings: Any) -> DeviceConfig:
        if index in (0, 7):
            raise CredentialError(f"device d{index}: the pre-shared key is not valid hex")
        return real(scenario, index, **settings)

    monkeypatch.setattr(shard_module, "device_config", device_config)
    shard, started = await run(make_scenario(PHASES))
    assert started == [f"d{i}" for i in range(10) if i not in (0, 7)]
    register = shard.metrics.operations[Operation.REGISTER]
    assert (register.count, register.failures) == (10, 2)
    assert shard.bridge.errors == 2
