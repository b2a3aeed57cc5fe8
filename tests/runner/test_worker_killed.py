"""A worker killed with -9 leaves no registration behind: the parent de-registers its devices.

Real devices in 2 worker processes against the embedded server (real UDP on loopback);
worker 1 is SIGKILLed once every device registered. The workers streamed their devices'
registrations (:mod:`fleet.runner.handover`), so the parent sends the De-registers of the
dead worker's devices: afterwards the server holds none of them, and the error names the
worker and what the parent did.
"""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from fleet.runner.worker import ScenarioSource
from fleet.runner.workers import WorkerError, WorkerPool
from fleet.scenario import load_scenario_text
from fleet.server import Lwm2mServer

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

DEVICES = 12
WAIT = 60.0


def scenario_text(uri: str) -> str:
    return f"""
version: 1
server: {uri}
seed: 3
duration: 1h
groups:
  - count: {DEVICES}
    endpoint: "kill-{{index:02d}}"
    lifetime: 1h
    objects:
      3303: [0]
phases:
  - {{duration: 1s, arrivalCount: {DEVICES}}}
"""


async def until_registered(pool: WorkerPool, count: int) -> None:
    while pool.snapshot().states.get("registered", 0) < count:
        await pool.reported()


async def test_the_parent_de_registers_a_killed_workers_devices() -> None:
    async with await Lwm2mServer.start() as server:
        text = scenario_text(server.uri)
        pool = WorkerPool(
            load_scenario_text(text), ScenarioSource(text), workers=2, report_every=0.05
        )
        running = asyncio.ensure_future(pool.run())
        await asyncio.wait_for(until_registered(pool, DEVICES), WAIT)
        assert len(server.registrations()) == DEVICES
        os.kill(pool.pids()[1], signal.SIGKILL)
        with pytest.raises(WorkerError) as caught:
            await asyncio.wait_for(running, WAIT)
        left = [r.endpoint for r in server.registrations()]
    message = str(caught.value)
    assert "worker 1 (devices 6..11) failed: the process was killed by signal 9" in message
    assert (
        "6 of its devices were registered at its last report:"
        " de-registered by the parent 6, left to expire 0"
    ) in message
    assert left == []  # the killed worker's by the parent, the other's by themselves
