"""Devices that bootstrap from a Bootstrap-Server named in DNS (Core 1.1 §6.1).

The resolver is injected: ``bs.fleet.test`` answers the embedded Bootstrap-Server's
loopback address. The device must look the name up, take the Bootstrap-Server's
requests as bootstrap requests (it knows the server by its address only after the
lookup), and end up registered with the server account it was written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from fleet.clock import ManualClock
from fleet.metrics import Operation
from fleet.runner.fleet import Fleet
from fleet.scenario import load_scenario_text
from fleet.server import Lwm2mServer

pytestmark = pytest.mark.asyncio
NAME = "bs.fleet.test"
DEVICES = 4


async def test_a_fleet_bootstraps_from_a_named_bootstrap_server() -> None:
    clock = ManualClock()
    asked: list[str] = []
    async with await Lwm2mServer.start(clock=clock) as server:
        bootstrap = await server.start_bootstrap()

        async def resolver(host: str, port: int) -> Sequence[tuple[str, int]]:
            asked.append(host)
            return [bootstrap.address] if host == NAME else []

        port = bootstrap.address[1]
        scenario = load_scenario_text(
            f"""
version: 1
server: coap://127.0.0.1:9
seed: 3
duration: 10s
groups:
  - count: {DEVICES}
    endpoint: "nb-{{index}}"
    bootstrap: coap://{NAME}:{port}
"""
        )
        task = asyncio.ensure_future(Fleet(scenario, clock=clock, resolver=resolver).run())
        for _ in range(200):
            await clock.advance(0.25)
            if task.done():
                break
        summary = await asyncio.wait_for(task, 10.0)
    row = summary.operations[Operation.BOOTSTRAP]
    assert (row.count, row.failures) == (DEVICES, 0), row.failure_reasons
    assert summary.operations[Operation.REGISTER].count == DEVICES
    assert asked and set(asked) == {NAME}
