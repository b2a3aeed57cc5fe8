"""The worked fault scenario (scenarios/faults-demo.yaml) run against the embedded server."""

from __future__ import annotations

import asyncio

import pytest

from fleet.clock import ManualClock
from fleet.metrics import Operation
from fleet.runner.fleet import Fleet
from fleet.scenario import Setting, load_scenario
from fleet.server import EventKind, Lwm2mServer, ServerEvent
from tests.scenario.conftest import SCENARIOS

pytestmark = pytest.mark.asyncio


async def test_the_worked_fault_scenario_shows_its_faults_in_the_summary() -> None:
    clock = ManualClock()
    async with await Lwm2mServer.start(clock=clock) as server:
        scenario = load_scenario(
            SCENARIOS / "faults-demo.yaml",
            settings=[Setting("server", server.uri, "test")],
        )
        seen: list[ServerEvent] = []
        server.add_listener(seen.append)
        fleet = Fleet(scenario, clock=clock)
        stop = asyncio.Event()
        task = asyncio.ensure_future(fleet.run(stop))
        codes: list[str] = []
        stopped_at = float("inf")
        for second in range(1, 240):
            await clock.advance(1.0)
            if second == 220:  # past the reboot wave; before the first deduplication sweep
                stopped_at = clock.wall()
                stop.set()
            if second == 90:  # inside the reject window: write to every registered device
                names = [r.endpoint for r in server.registrations()]
                results = await asyncio.gather(
                    *(server.write(name, "/3442/0/110", "x") for name in names)
                )
                codes = [r.code for r in results]
            if task.done():
                break
        summary = await asyncio.wait_for(task, 30.0)
    faults = summary.faults
    assert faults["reject 4.05"] == codes.count("4.05") > 0
    assert codes.count("2.04") == len(codes) - codes.count("4.05")  # the others wrote
    assert 20 <= faults["reboot"] <= 60  # a quarter of 150 meters, drawn
    expired = sorted(e.endpoint for e in seen if e.kind is EventKind.EXPIRATION)
    assert len(expired) == faults["silence"] == 2  # their registrations ran out
    rebooted = [e for e in seen if e.kind is EventKind.DEREGISTRATION and e.time < stopped_at]
    assert len(rebooted) == faults["reboot"]
    write = summary.operations[Operation.WRITE]
    assert write.injected == faults["reject 4.05"] and write.failures == 0
    assert "faults (injected on purpose" in summary.table()
