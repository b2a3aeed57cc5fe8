"""Observe between a real Device and a real Lwm2mServer: attributes, notifications on time,
cancel by Observe=1 and by Reset, in every content format the device offers.

Device and server share a :class:`~fleet.clock.ManualClock`: notification times are checked
exactly against pmin/pmax (the server stamps each notification with the clock's wall time).
"""

from __future__ import annotations

import asyncio

import pytest

from fleet.client.device import Device
from fleet.client.events import ClientEvent, ObservationEnded
from fleet.clock import ManualClock
from fleet.codec import ContentFormat as F
from fleet.model import Path
from fleet.server import Lwm2mServer, ObservationHandle

from .conftest import WAIT, DeviceFactory, within
from .formats import SINGLE, STRUCTURED, VERSIONS, cases

pytestmark = pytest.mark.asyncio

TARGET = Path(3442, 0, 120)


async def quiet(server: Lwm2mServer, handle: ObservationHandle) -> None:
    """Assert that nothing was notified so far (one round trip flushes the socket first)."""
    assert (await within(server.read("dev1", "/3/0/9"))).code == "2.05"
    assert handle.pending() == []


def ended_future(device: Device) -> asyncio.Future[ObservationEnded]:
    future: asyncio.Future[ObservationEnded] = asyncio.get_running_loop().create_future()

    def listen(event: ClientEvent) -> None:
        if isinstance(event, ObservationEnded) and not future.done():
            future.set_result(event)

    device.add_listener(listen)
    return future


@pytest.mark.parametrize(("version", "fmt"), cases(SINGLE) + cases(STRUCTURED))
async def test_observe_with_attributes_notifies_on_time_then_cancel(
    make_device: DeviceFactory, server: Lwm2mServer, clock: ManualClock, version: str, fmt: F
) -> None:
    device = await make_device(lwm2m_version=version)
    start = clock.wall()
    handle = await within(server.observe("dev1", TARGET, format=fmt, pmin=2, pmax=10))
    assert handle.result is not None and handle.result.code == "2.05"
    assert handle.result.content_format == fmt and handle.result.value == 1024
    device.tree.set_value(TARGET, 5)  # a change at t=0 waits for pmin
    await clock.advance(1.9)
    await quiet(server, handle)
    await clock.advance(0.1)
    note = await handle.next(WAIT)
    assert (note.time - start, note.value, note.content_format) == (2.0, 5, fmt)
    await clock.advance(9.9)  # nothing changes: the next one comes at pmax after the last
    await quiet(server, handle)
    await clock.advance(0.1)
    note = await handle.next(WAIT)
    assert (note.time - start, note.value) == (12.0, 5)
    assert note.sequence is not None and handle.count == 2
    cancelled = await within(handle.cancel())
    assert cancelled.code == "2.05" and not device.has_observations()
    device.tree.set_value(TARGET, 6)
    await clock.advance(30)
    assert server.observations("dev1") == [] and handle.pending() == []


@pytest.mark.parametrize("version", VERSIONS)
async def test_cancel_by_reset_ends_the_observation_on_the_device(
    make_device: DeviceFactory, server: Lwm2mServer, clock: ManualClock, version: str
) -> None:
    device = await make_device(lwm2m_version=version)
    handle = await within(server.observe("dev1", TARGET))
    assert handle.result is not None and handle.result.code == "2.05"
    assert device.has_observations()
    ended = ended_future(device)
    handle.cancel_by_reset()
    device.tree.set_value(TARGET, 77)  # the notification is answered with a Reset
    await clock.advance(0)
    event = await within(ended)
    assert event.paths == (TARGET,)
    assert not device.has_observations() and handle.pending() == []


@pytest.mark.parametrize("version", VERSIONS)
async def test_observe_inherits_attributes_written_on_the_instance(
    make_device: DeviceFactory, server: Lwm2mServer, clock: ManualClock, version: str
) -> None:
    await make_device(lwm2m_version=version)
    assert (await within(server.write_attributes("dev1", "/3442/0", pmax=4))).code == "2.04"
    start = clock.wall()
    handle = await within(server.observe("dev1", TARGET))
    await clock.advance(3.9)
    await quiet(server, handle)
    await clock.advance(0.1)
    assert (await handle.next(WAIT)).time - start == 4.0
    await within(handle.cancel())


@pytest.mark.parametrize("version", VERSIONS)
async def test_gt_lt_fire_on_crossing_only(
    make_device: DeviceFactory, server: Lwm2mServer, clock: ManualClock, version: str
) -> None:
    device = await make_device(lwm2m_version=version)
    handle = await within(server.observe("dev1", "/3442/0/130", gt=10.0, lt=0.0))
    for value in (5.0, 11.0, 12.0, -1.0):
        device.tree.set_value(Path(3442, 0, 130), value)
        await clock.advance(1)
    assert (await within(server.read("dev1", "/3/0/9"))).code == "2.05"  # flush
    assert [n.value for n in handle.pending()] == [11.0, -1.0]
    await within(handle.cancel())


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_second_observe_replaces_the_first(
    make_device: DeviceFactory, server: Lwm2mServer, clock: ManualClock, version: str
) -> None:
    device = await make_device(lwm2m_version=version)
    first = await within(server.observe("dev1", TARGET, pmin=5))
    second = await within(server.observe("dev1", TARGET))
    assert len(device.observations) == 1
    device.tree.set_value(TARGET, 9)
    await clock.advance(0)
    assert (await second.next(WAIT)).value == 9
    await quiet(server, first)
    await within(second.cancel())
