"""De-registers at the end of a run against a dead server give up after a bounded grace, and a
second Ctrl-C (``cut``) gives them up at once. Over real UDP: the embedded server is stopped
mid-run and a silent socket takes its port (a host that vanished: no ICMP error comes back),
so every De-register goes unanswered (it used to take CoAP's 93 s, batch after batch).
Protocol time is a ManualClock.
"""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest

from fleet.clock import ManualClock
from fleet.metrics import Operation, Summary
from fleet.runner.fleet import Fleet
from fleet.runner.leaving import DEREGISTER_GRACE
from fleet.scenario import load_scenario_text
from fleet.server import Lwm2mServer

pytestmark = pytest.mark.asyncio
DEVICES = 6


def scenario(uri: str) -> str:
    return f"""
version: 1
server: {uri}
duration: 20s
groups:
  - count: {DEVICES}
    endpoint: "dead-{{index}}"
    lifetime: 300
"""


async def silent_socket(host: str, port: int) -> socket.socket:
    """A socket on the dead server's port that reads nothing and answers nothing."""
    for _ in range(10):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.bind((host, port))
            return sock
        except OSError:
            sock.close()
            await asyncio.sleep(0)  # the closed socket is released on one of the next turns
    raise AssertionError(f"port {port} stayed taken")


async def run_against_a_dead_server(cut_after: float | None) -> tuple[Summary, float]:
    """The run's summary and how much clock time its end took."""
    clock = ManualClock()
    server = await Lwm2mServer.start(clock=clock)
    fleet = Fleet(load_scenario_text(scenario(server.uri)), clock=clock, drain=0.0)
    cut = asyncio.Event()
    task = asyncio.ensure_future(fleet.run(cut=cut))
    silent: socket.socket | None = None
    try:
        for _ in range(200):
            await clock.advance(0.1)
            if len(server.registrations()) == DEVICES:
                break
        assert len(server.registrations()) == DEVICES
        host, port = server.address
        await server.stop()  # the server dies; the run goes on to its end
        silent = await silent_socket(host, port)
        await clock.advance(20.0)
        ended_at = clock.now()
        for _ in range(2000):
            if task.done():
                break
            if cut_after is not None and clock.now() - ended_at >= cut_after:
                cut.set()
            await clock.advance(0.25)
        assert task.done(), f"the end still waits after {clock.now() - ended_at:.0f} s"
        return await asyncio.wait_for(task, 5.0), clock.now() - ended_at
    finally:
        if not task.done():
            task.cancel()
        await server.stop()
        if silent is not None:
            silent.close()


async def test_deregisters_give_up_after_the_grace(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="fleet.runner"):
        summary, took = await run_against_a_dead_server(cut_after=None)
    assert took <= DEREGISTER_GRACE + 2.0  # not CoAP's 93 s
    deregister = summary.operations[Operation.DEREGISTER]
    assert (deregister.count, deregister.failures) == (DEVICES, DEVICES)
    assert f"{DEVICES} devices gave up de-registering" in caplog.text


async def test_a_second_ctrl_c_cuts_the_end_short(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="fleet.runner"):
        summary, took = await run_against_a_dead_server(cut_after=1.0)
    assert took <= 2.0
    assert summary.operations[Operation.DEREGISTER].failures == DEVICES
    assert "cut short" in caplog.text
