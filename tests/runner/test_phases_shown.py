"""Phase names in the progress line and the summary (text and JSON), as the scenario schema
promises ("Name shown in progress and summary"); a device not started yet is "waiting", never
"stopped" (issue 14)."""

from __future__ import annotations

import asyncio
import json
import random
import re

import pytest

from fleet.client.config import DeviceConfig
from fleet.client.registration import RegistrationState
from fleet.clock import Clock, ManualClock
from fleet.metrics import Summary, ThresholdLine
from fleet.metrics.phases import PhaseLine
from fleet.runner.devices import DeviceLike
from fleet.runner.fleet import Fleet
from fleet.runner.progress import merge_snapshots, snapshot, status_line
from fleet.runner.shard import Shard

from .test_shard import FakeDevice, make_scenario, shard_of

pytestmark = pytest.mark.asyncio

PHASES = """phases:
  - {name: warm-up, duration: 10s, arrivalCount: 2}
  - {pause: 10s}
  - {name: ramp, duration: 10s, arrivalCount: 4}
"""


async def test_the_progress_line_names_the_running_phase() -> None:
    clock = ManualClock()
    shard, _ = shard_of(make_scenario(PHASES, count=6), clock)
    shard.start()
    lines = []
    for _ in range(4):
        await clock.advance(9)
        lines.append(status_line(snapshot(shard, shard.metrics)))
    await shard.stop()

    assert [re.search(r"phase (\S+)", line)[1] for line in lines[:3]] == [  # type: ignore[index]
        "warm-up",
        "2",  # the unnamed pause, by its position
        "ramp",
    ]
    assert "phase" not in lines[3]  # 36 s: after the last phase


async def test_merged_worker_snapshots_keep_the_phase() -> None:
    clock = ManualClock()
    shard, _ = shard_of(make_scenario(PHASES, count=6), clock)
    shard.start()
    await clock.advance(25)
    early = snapshot(shard, shard.metrics)
    await clock.advance(0.5)
    merged = merge_snapshots([early, snapshot(shard, shard.metrics)])
    await shard.stop()
    assert merged.phase == "ramp"
    assert "phase ramp" in status_line(merged)


class GatedDevice(FakeDevice):
    """Its start has been called but has not begun yet until ``gate`` is set."""

    gate = asyncio.Event()

    async def start(self) -> None:
        await self.gate.wait()
        await super().start()


async def test_a_device_whose_start_has_not_begun_is_waiting_not_stopped() -> None:
    GatedDevice.gate = asyncio.Event()
    log: list[tuple[float, str, str]] = []

    def factory(config: DeviceConfig, clk: Clock, rng: random.Random) -> DeviceLike:
        return GatedDevice(config, clk, log)

    clock = ManualClock()
    shard = Shard(make_scenario(PHASES, count=6), clock=clock, factory=factory)
    shard.start()
    await clock.advance(10.5)  # both warm-up devices arrived (5 s, 10 s), their starts held

    assert set(shard.devices) == {0, 1}
    assert all(d.state is RegistrationState.STOPPED for d in shard.devices.values())
    assert shard.states()["waiting"] == 6
    assert "stopped" not in shard.states()
    assert "stopped" not in status_line(snapshot(shard, shard.metrics))

    GatedDevice.gate.set()
    await clock.advance(0.1)
    assert shard.states()["registered"] == 2 and shard.states()["waiting"] == 4
    await shard.stop()
    assert shard.states()["stopped"] == 2  # a device that ran, then stopped


async def run_fleet(count: int, *, abort_at: float | None = None) -> Summary:
    log: list[tuple[float, str, str]] = []

    def factory(config: DeviceConfig, clk: Clock, rng: random.Random) -> DeviceLike:
        return FakeDevice(config, clk, log)

    clock = ManualClock()
    fleet = Fleet(make_scenario(PHASES, count=count), clock=clock, factory=factory, drain=0.0)
    stop = asyncio.Event()
    task = asyncio.ensure_future(fleet.run(stop))
    elapsed = 0.0
    while not task.done() and elapsed < 200:
        await clock.advance(1)
        elapsed += 1
        if abort_at is not None and elapsed >= abort_at:
            stop.set()
    return await asyncio.wait_for(task, 5.0)


async def test_the_summary_shows_each_phase_in_text_and_json() -> None:
    summary = await run_fleet(6)

    expected = (
        PhaseLine("warm-up", 0.0, 10.0, 2, 2),
        PhaseLine("2", 10.0, 20.0, 0, 0),
        PhaseLine("ramp", 20.0, 30.0, 4, 4),
    )
    assert summary.phases == expected
    assert "phases: warm-up 0-10s 2/2 arrived, 2 10-20s 0/0 arrived, ramp 20-30s 4/4 arrived" in (
        summary.table()
    )
    document = json.loads(json.dumps(summary.to_json()))
    assert document["phases"][0] == {
        "name": "warm-up",
        "start": 0.0,
        "end": 10.0,
        "planned": 2,
        "arrived": 2,
    }
    assert Summary.from_json(document).phases == expected
    assert Summary.merge_all([summary, summary]).phases[2] == PhaseLine("ramp", 20.0, 30.0, 8, 8)


async def test_an_aborted_run_counts_the_devices_that_never_started_as_waiting() -> None:
    summary = await run_fleet(6, abort_at=15)

    assert summary.aborted
    assert summary.device_states == {"stopped": 2, "waiting": 4}
    assert summary.phases[2] == PhaseLine("ramp", 20.0, 30.0, 4, 0)
    assert "devices: stopped 2, waiting 4" in summary.table()


async def test_a_malformed_phase_in_a_summary_document_is_refused_by_name() -> None:
    document = Summary().to_json()
    document["phases"] = [{"name": "a", "start": 0, "end": 1, "planned": -1, "arrived": 0}]
    with pytest.raises(ValueError, match=r"phases\[0\]: planned must be a count, got -1"):
        Summary.from_json(document)


async def test_the_text_summary_uses_the_json_words_for_faults_and_the_verdict() -> None:
    summary = Summary(faults={"silence": 2})
    text = summary.table()
    assert "faults (injected on purpose, not counted as failures): 2" in text
    document = summary.to_json()
    assert document["faults"] == {"silence": 2}
    failing = Summary(thresholds=(ThresholdLine("register_failed", "rate==0", 0.5, "failed"),))
    assert failing.to_json()["verdict"] == "failed"
    assert "thresholds: failed" in failing.table()
