"""The shard's sampler under a ManualClock: ticks at fixed run times, a last record at the end."""

from __future__ import annotations

import random

import pytest

from fleet.client.config import DeviceConfig
from fleet.clock import Clock, ManualClock
from fleet.metrics import Operation, RunMetrics
from fleet.metrics.series import totals
from fleet.metrics.timeseries import Interval
from fleet.runner.devices import DeviceLike
from fleet.runner.sampling import Sampler
from fleet.runner.shard import Shard

from .test_shard import FakeDevice, make_scenario

pytestmark = pytest.mark.asyncio


async def test_records_every_interval_then_the_rest_at_the_end() -> None:
    clock = ManualClock()
    log: list[tuple[float, str, str]] = []

    def factory(config: DeviceConfig, clk: Clock, rng: random.Random) -> DeviceLike:
        return FakeDevice(config, clk, log)

    scenario = make_scenario("phases:\n  - {duration: 4s, arrivalCount: 8}\n", count=8)
    metrics = RunMetrics()
    shard = Shard(scenario, clock=clock, metrics=metrics, factory=factory)
    records: list[Interval] = []
    shard.start()
    sampler = Sampler(shard, metrics, records.append, clock=clock, interval=1.0)
    sampler.start()
    await clock.advance(4.5)
    assert [(r.index, r.start, r.span) for r in records] == [(i, float(i), 1.0) for i in range(4)]
    assert [r.wall for r in records] == [clock.wall() - 4.5 + i for i in range(4)]
    assert records[0].devices["waiting"] > records[3].devices.get("waiting", 0)
    assert all(sum(r.devices.values()) == 8 for r in records)
    await shard.stop()
    last = await sampler.finish()
    assert last is records[-1] and (last.index, last.start, last.span) == (4, 4.0, 0.5)
    assert last.devices == {"stopped": 8}
    total = totals(records)
    assert total.operations[Operation.REGISTER].count == metrics.stats(Operation.REGISTER).count
    assert total.operations[Operation.DEREGISTER].count == 8
    await clock.advance(3.0)
    assert len(records) == 5  # no tick after finish()
