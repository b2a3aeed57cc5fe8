"""The time series of a real run: two worker processes merged equal one process, exactly.

The same scenario (same seed) runs once in this process (``Fleet`` with a
``Sampler``) and once in two worker processes (``WorkerPool(interval=...)``)
against the embedded server. Each run's records must add up to its own summary
exactly (counts and latency histograms, bucket for bucket), both runs must count
the same operations, and devices by state must cover the whole fleet at every tick.
"""

from __future__ import annotations

import asyncio

import pytest

from fleet.clock import LoopClock
from fleet.metrics import Operation, RunMetrics, Summary
from fleet.metrics.series import totals
from fleet.metrics.timeseries import Interval
from fleet.runner.fleet import Fleet
from fleet.runner.sampling import Sampler
from fleet.runner.shard import Shard
from fleet.runner.worker import ScenarioSource
from fleet.runner.workers import WorkerPool
from fleet.scenario import load_scenario_text
from fleet.server import Lwm2mServer

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

DEVICES = 30
INTERVAL = 0.5


def scenario_text(uri: str) -> str:
    return f"""
version: 1
server: {uri}
seed: 21
duration: 2s
groups:
  - count: {DEVICES}
    endpoint: "ts-{{index:03d}}"
    lifetime: 60s
    objects:
      3303: [0]
phases:
  - {{duration: 1s, arrivalCount: {DEVICES}}}
"""


def assert_adds_up(records: list[Interval], summary: Summary) -> None:
    total = totals(records)
    for op in Operation:
        got, want = total.operations[op], summary.operations[op]
        assert (op, got.count, got.failures, got.late) == (op, want.count, want.failures, want.late)
        assert got.durations.buckets() == want.durations.buckets()
        assert got.durations.sum_ns == want.durations.sum_ns
    assert total.retransmissions == summary.retransmissions
    assert [r.index for r in records] == list(range(len(records)))
    for record in records:
        assert sum(record.devices.values()) == DEVICES, record.devices
    assert records[-1].devices == {"stopped": DEVICES}
    # ticks every 0.5 s over a 2 s run, then the last short record after the de-registrations
    assert 4 <= len(records) <= 6


async def run_here(text: str) -> tuple[Summary, list[Interval]]:
    scenario = load_scenario_text(text)
    clock = LoopClock(asyncio.get_running_loop())
    metrics = RunMetrics()
    records: list[Interval] = []
    samplers: list[Sampler] = []

    def started(shard: Shard) -> None:
        sampler = Sampler(shard, metrics, records.append, clock=clock, interval=INTERVAL)
        sampler.start()
        samplers.append(sampler)

    summary = await Fleet(scenario, clock=clock, metrics=metrics).run(on_started=started)
    await samplers[0].finish()
    return summary, records


async def test_two_workers_merged_equal_one_process() -> None:
    async with await Lwm2mServer.start() as server:
        text = scenario_text(server.uri)
        single, single_records = await asyncio.wait_for(run_here(text), 60)
        live: list[Interval] = []
        pool = WorkerPool(
            load_scenario_text(text),
            ScenarioSource(text),
            workers=2,
            interval=INTERVAL,
            on_interval=live.append,
        )
        double = await asyncio.wait_for(pool.run(), 90)
    assert double.shards == 2
    assert live == pool.series  # handed out once each, in order
    assert_adds_up(single_records, single)
    assert_adds_up(pool.series, double)
    for op in (Operation.REGISTER, Operation.DEREGISTER):
        assert totals(pool.series).operations[op].count == DEVICES
        assert totals(single_records).operations[op].count == DEVICES
    assert totals(pool.series).operations[Operation.UPDATE].count == (
        totals(single_records).operations[Operation.UPDATE].count
    )
