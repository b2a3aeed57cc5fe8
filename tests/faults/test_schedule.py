"""When device faults fire and what the injector leaves behind: recurring windows arm one
start at a time, late devices miss past starts, and closing unhooks every device."""

from __future__ import annotations

import asyncio

import pytest

from fleet.client.device import Device
from fleet.client.registration import RegistrationState
from fleet.server import EventKind, ServerEvent
from tests.faults.conftest import Rig

pytestmark = pytest.mark.asyncio

DAY = 86400


async def test_a_recurring_fault_keeps_firing_with_one_timer_armed(rig: Rig) -> None:
    injector = rig.injector({"action": "clock-skew", "skew": 1, "window": {"every": "1s"}})
    (device,) = await rig.add(1, install=injector.install, lifetime=DAY)
    before = rig.clock.pending()
    assert injector.pending(0) == 1 and before < 20  # one start armed, not thousands
    await rig.clock.advance(10_500.0)
    # still firing well past 10,000 occurrences, still one start armed
    assert injector.counter.counts["clock-skew"] == 10_501
    assert injector.pending(0) == 1 and rig.clock.pending() == before
    assert rig.clock.next_deadline() == 10_501.0
    assert device.state is RegistrationState.REGISTERED


async def test_a_recurring_fault_stops_at_its_window_end(rig: Rig) -> None:
    injector = rig.injector(
        {"action": "clock-skew", "skew": 1, "window": {"start": 5, "every": "10s", "end": 60}}
    )
    await rig.add(1, install=injector.install, lifetime=DAY)
    await rig.clock.advance(200.0)
    assert [e.time for e in injector.counter.log] == [5.0, 15.0, 25.0, 35.0, 45.0, 55.0]
    assert injector.pending(0) == 0


async def test_a_late_device_gets_no_burst_of_past_starts(rig: Rig) -> None:
    injector = rig.injector({"action": "clock-skew", "skew": 1, "window": {"every": "1s"}})
    await rig.clock.advance(500.5)  # the run goes on before the device arrives
    (device,) = await rig.add(1, install=injector.install, lifetime=DAY)
    await rig.clock.advance(0.0)
    assert injector.counter.total == 0
    await rig.clock.advance(2.0)
    assert [e.time for e in injector.counter.log] == [501.0, 502.0]
    assert device.state is RegistrationState.REGISTERED


async def test_close_lets_the_final_deregister_through(rig: Rig) -> None:
    injector = rig.injector(
        {"action": "drop", "operations": ["deregister"]},
        {"action": "reject", "code": "4.05", "operations": ["read"]},
    )
    (device,) = await rig.add(1, install=injector.install)
    assert (await rig.server.read("dev0", "/3/0/0")).code == "4.05"
    injector.close()
    assert (await rig.server.read("dev0", "/3/0/0")).code == "2.05"
    gone = rig.server.expect(EventKind.DEREGISTRATION, endpoint="dev0")
    stopping = asyncio.ensure_future(device.stop())
    await rig.clock.advance(1.0)  # far less than MAX_TRANSMIT_WAIT (93 s)
    await asyncio.wait_for(stopping, 5.0)
    await asyncio.wait_for(gone, 5.0)
    assert rig.server.registration("dev0") is None
    assert injector.counter.by_label == {"reject 4.05": 1}


async def test_close_cancels_the_way_back_of_a_deregister_fault(rig: Rig) -> None:
    injector = rig.injector({"action": "deregister", "window": {"start": 10}, "duration": "1m"})
    (device,) = await rig.add(1, install=injector.install)
    seen: list[ServerEvent] = []
    rig.server.add_listener(seen.append)
    gone = rig.server.expect(EventKind.DEREGISTRATION, endpoint="dev0")
    await rig.clock.advance(11.0)
    await asyncio.wait_for(gone, 5.0)
    for _ in range(50):  # the way back is armed once the De-register is answered
        if injector.pending(0):
            break
        await rig.clock.advance(0.01)
    assert injector.pending(0) == 1
    injector.close()
    assert injector.pending(0) == 0
    await rig.clock.advance(120.0)
    assert device.state is RegistrationState.STOPPED
    assert [e.kind for e in seen] == [EventKind.DEREGISTRATION]


async def test_forget_unhooks_one_device_only(rig: Rig) -> None:
    injector = rig.injector(
        {"action": "reject", "code": "4.04", "operations": ["read"]},
        {"action": "clock-skew", "skew": 1, "window": {"every": "5s"}},
    )
    devices: list[Device] = await rig.add(2, install=injector.install, lifetime=DAY)
    injector.forget(0)
    assert injector.pending(0) == 0 and injector.pending(1) == 1
    assert (await rig.server.read("dev0", "/3/0/0")).code == "2.05"
    assert (await rig.server.read("dev1", "/3/0/0")).code == "4.04"
    await rig.clock.advance(6.0)
    assert [e.endpoint for e in injector.counter.log if e.action == "clock-skew"] == [
        devices[1].name,
        devices[1].name,
    ]
