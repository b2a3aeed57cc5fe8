"""End to end: a few hundred real devices against the in-process server, checked against it."""

from __future__ import annotations

import asyncio

import pytest

from fleet.metrics import Operation, RunMetrics
from fleet.runner.fleet import EXIT_OK, EXIT_THRESHOLDS_FAILED, Fleet, exit_status
from fleet.scenario import Scenario, load_scenario_text
from fleet.server import Lwm2mServer

pytestmark = pytest.mark.asyncio

DEVICES = 200


def scenario(server_uri: str, thresholds: str = "") -> Scenario:
    text = f"""
version: 1
server: {server_uri}
seed: 3
duration: 3s
groups:
  - name: sensors
    count: {DEVICES}
    endpoint: "e2e-{{index:05d}}"
    lifetime: 60s
    objects:
      3303: [0]
    generators:
      "/3303/0/5700": {{kind: random_walk, min: 18, max: 26, step: 0.5, every: 1s}}
phases:
  - {{duration: 1s, arrivalCount: 150}}
  - {{duration: 1s, arrivalRate: 50}}
{thresholds}
"""
    return load_scenario_text(text)


@pytest.mark.slow
async def test_fleet_run_matches_what_the_server_saw() -> None:
    async with await Lwm2mServer.start() as server:
        metrics = RunMetrics()
        fleet = Fleet(scenario(server.uri), metrics=metrics)
        summary = await asyncio.wait_for(fleet.run(), timeout=60)
        register = summary.operations[Operation.REGISTER]
        deregister = summary.operations[Operation.DEREGISTER]
        counters = server.counters
        assert register.count == DEVICES
        assert register.failures == 0
        assert counters.registrations == register.count
        assert deregister.count == DEVICES and deregister.failures == 0
        assert counters.deregistrations == DEVICES
        assert server.registrations() == []  # everybody left
        assert register.durations.count == DEVICES  # every Register has a duration
        assert not summary.aborted
        assert summary.device_states == {"stopped": DEVICES}
        assert fleet.shard is not None and fleet.shard.applied > 0  # generators ran
        assert exit_status(summary) == EXIT_OK


@pytest.mark.slow
async def test_a_failed_threshold_gives_exit_status_99() -> None:
    thresholds = f"""
thresholds:
  register_failed: ["rate==0"]
  register_duration: ["count<{DEVICES}", "p(50)<1m"]
"""
    async with await Lwm2mServer.start() as server:
        fleet = Fleet(scenario(server.uri, thresholds))
        summary = await asyncio.wait_for(fleet.run(), timeout=60)
    statuses = [(t.expression, t.status) for t in summary.thresholds]
    assert statuses == [
        ("rate==0", "passed"),
        (f"count<{DEVICES}", "failed"),  # every device registers: fails for certain
        ("p(50)<1m", "passed"),
    ]
    assert exit_status(summary) == EXIT_THRESHOLDS_FAILED


async def test_stop_aborts_and_deregisters_everybody() -> None:
    async with await Lwm2mServer.start() as server:
        stop = asyncio.Event()
        fleet = Fleet(scenario(server.uri))

        def started(_: object) -> None:
            asyncio.get_running_loop().call_later(0.5, stop.set)

        summary = await asyncio.wait_for(fleet.run(stop, on_started=started), timeout=60)
        assert summary.aborted
        assert summary.duration < 3
        assert server.registrations() == []
        register = summary.operations[Operation.REGISTER]
        assert 0 < register.count < DEVICES
        assert server.counters.deregistrations == register.count - register.failures
