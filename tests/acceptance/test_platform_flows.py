"""The flows of the platform in ``../shared/seed/`` (its "Device to Cloud" chapter), each giving
what that document shows, between a real Device and the embedded server over loopback UDP.

Register (then the automatic Read /3 and Read /6 filling the device info), Write /3442/0/110
"Hello" and read it back, Execute /3442/0/2, Read /3442/0/160 (946684800 in the document),
Observe /3303/0/5602 with pmin/pmax and notifications exactly on time, cancel, De-register.
Device and server share one :class:`~fleet.clock.ManualClock`.
"""

from __future__ import annotations

import pytest

from fleet.client.registration import RegistrationState
from fleet.clock import ManualClock
from fleet.model import Path
from fleet.server import EventKind, Lwm2mServer

from .conftest import WAIT, DeviceFactory, within

pytestmark = pytest.mark.asyncio


async def test_register_reads_device_and_location(
    make_device: DeviceFactory, server: Lwm2mServer
) -> None:
    kinds = [e.kind for e in server.recent_events]
    assert kinds == []
    device = await make_device("device001")
    events = [e for e in server.recent_events if e.endpoint == "device001"]
    assert events[0].kind is EventKind.REGISTRATION
    reads = [e.result for e in events if e.kind is EventKind.RESPONSE]
    assert [(r.target, r.code) for r in reads if r is not None] == [("/3", "2.05"), ("/6", "2.05")]
    record = server.device("device001")
    assert record is not None
    info = record.info
    tree = device.tree
    assert info.manufacturer == tree.value(Path(3, 0, 0))
    assert info.model == tree.value(Path(3, 0, 1))
    assert info.firmware_version == tree.value(Path(3, 0, 3))
    assert info.software_version == tree.value(Path(3, 0, 19))
    assert info.system_time == tree.value(Path(3, 0, 13))
    latitude, longitude = tree.value(Path(6, 0, 0)), tree.value(Path(6, 0, 1))
    assert info.location == f"geo:{latitude!s},{longitude!s}"
    # the values the document lists for READ /6 are all there
    six = reads[1]
    assert six is not None and {Path(6, 0, 0), Path(6, 0, 1), Path(6, 0, 5)} <= set(six.values)


async def test_write_hello_then_read_it_back(
    make_device: DeviceFactory, server: Lwm2mServer
) -> None:
    device = await make_device("device001")
    written = await within(server.write("device001", "/3442/0/110", "Hello"))
    assert (written.code, written.payload) == ("2.04", b"")
    assert device.tree.value(Path(3442, 0, 110)) == "Hello"
    read = await within(server.read("device001", "/3442/0/110"))
    assert (read.code, read.value) == ("2.05", "Hello")


async def test_execute_clear_values(make_device: DeviceFactory, server: Lwm2mServer) -> None:
    device = await make_device("device001")
    await within(server.write("device001", "/3442/0/110", "Hello"))
    executed = await within(server.execute("device001", "/3442/0/2"))
    assert (executed.code, executed.payload) == ("2.04", b"")  # the document's "data": null
    assert device.tree.value(Path(3442, 0, 110)) != "Hello"


async def test_read_time_value(make_device: DeviceFactory, server: Lwm2mServer) -> None:
    await make_device("d2c-lwm2m-java-client-tst002")
    read = await within(server.read("d2c-lwm2m-java-client-tst002", "/3442/0/160"))
    assert read.code == "2.05"
    assert dict(read.values) == {Path(3442, 0, 160): 946684800}


async def test_observe_max_measured_value_on_time_then_cancel_and_deregister(
    make_device: DeviceFactory, server: Lwm2mServer, clock: ManualClock
) -> None:
    device = await make_device("device001")
    start = clock.wall()
    target = Path(3303, 0, 5602)
    handle = await within(server.observe("device001", "/3303/0/5602", pmin=5, pmax=20))
    assert handle.result is not None and handle.result.code == "2.05"
    first = handle.result.value
    assert isinstance(first, float)
    # pmax: nothing changes, one notification every 20 s, never earlier
    times = []
    for _ in range(3):
        await clock.advance(19.5)
        await within(server.read("device001", "/3/0/9"))  # flush the socket
        assert handle.pending() == []
        await clock.advance(0.5)
        note = await handle.next(WAIT)
        times.append(note.time - start)
        assert note.value == first and note.path == target
    assert times == [20.0, 40.0, 60.0]
    # a higher sensor value raises the max measured value: notified, but not before pmin
    device.tree.set_value(Path(3303, 0, 5700), first + 4.5)
    await clock.advance(4.5)  # 64.5 s: still inside pmin after the notification at 60 s
    await within(server.read("device001", "/3/0/9"))
    assert handle.pending() == []
    await clock.advance(0.5)
    note = await handle.next(WAIT)
    assert (note.time - start, note.value) == (65.0, first + 4.5)
    notified = [e for e in server.recent_events if e.kind is EventKind.NOTIFICATION]
    assert len(notified) == 4 and all(e.request_id == handle.request_id for e in notified)
    # cancel (the platform's UNOBSERVE): nothing more arrives
    assert (await within(handle.cancel())).code == "2.05"
    assert not device.has_observations()
    await clock.advance(100)
    assert handle.pending() == [] and server.observations("device001") == []
    # de-register
    gone = server.expect(EventKind.DEREGISTRATION, endpoint="device001")
    await within(device.stop())
    assert (await within(gone)).kind is EventKind.DEREGISTRATION
    assert server.registration("device001") is None
    assert device.state is RegistrationState.STOPPED


async def test_update_before_the_lifetime_runs_out(
    make_device: DeviceFactory, server: Lwm2mServer, clock: ManualClock
) -> None:
    await make_device("device001", lifetime=300)
    updated = server.expect(EventKind.UPDATE, endpoint="device001")
    await clock.advance(300 - 93)  # lifetime minus MAX_TRANSMIT_WAIT
    event = await within(updated)
    registration = server.registration("device001")
    assert registration is not None and registration.updated_at == 207.0
    assert event.registration is not None
    await clock.advance(300)  # updates keep it alive past the first lifetime
    assert server.registration("device001") is not None
