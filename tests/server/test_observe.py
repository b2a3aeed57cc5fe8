"""Observe, notifications and both cancels, against the fake device over real UDP."""

from __future__ import annotations

import asyncio

import pytest
from aiocoap.numbers.codes import Code

from fleet.codec import ContentFormat
from fleet.model import Path
from fleet.observe import NotificationAttributes
from fleet.server import EventKind, Lwm2mServer, Operation
from tests.server.conftest import DeviceFactory
from tests.server.fakes import FakeDevice

pytestmark = pytest.mark.asyncio
F = ContentFormat
WAIT = 5.0
TEMPERATURE = Path(3303, 0, 5700)


@pytest.mark.parametrize("fmt", [None, F.TEXT, F.TLV, F.SENML_JSON, F.SENML_CBOR, F.LWM2M_CBOR])
async def test_observe_with_attributes_then_notifications(
    server: Lwm2mServer, make_device: DeviceFactory, fmt: ContentFormat | None
) -> None:
    device = await make_device("dev1", lwm2m="1.2")
    handle = await server.observe("dev1", "/3303/0/5700", format=fmt, pmin=1, pmax=10, st=0.5)
    assert handle.active and handle.result is not None and handle.result.ok
    assert handle.result.operation is Operation.OBSERVE and handle.result.value == 21.5
    assert handle.attributes == NotificationAttributes(pmin=1, pmax=10, st=0.5)
    seen = device.seen[-1]
    assert seen.observe == 0 and seen.query == ("pmin=1", "pmax=10", "st=0.5")
    assert server.observations("dev1") == [handle]
    assert server.find_observation("dev1", "/3303/0/5700") is handle

    events = server.events(EventKind.NOTIFICATION, endpoint="dev1")
    for step, value in enumerate((22.0, 23.5, 19.25), start=1):
        device.values[TEMPERATURE] = value
        assert await device.notify(TEMPERATURE) == [True]
        note = await handle.next(WAIT)
        assert note.value == value and note.values == {TEMPERATURE: value}
        assert note.sequence == step and note.code == "2.05"
        assert note.content_format == (fmt if fmt is not None else F.TEXT)
        event = await events.next(WAIT)
        assert event.notification == note and event.request_id == handle.request_id
        assert event.values == {TEMPERATURE: value}
    record = server.device("dev1")
    assert record is not None and record.values[TEMPERATURE] == 19.25
    assert handle.count == 3 and handle.last is not None and handle.last.value == 19.25
    assert server.counters.notifications == 3


async def test_active_cancel_sends_observe_1_and_ends_iteration(
    server: Lwm2mServer, device: FakeDevice
) -> None:
    handle = await server.observe("dev1", "/3303/0/5700")
    device.values[TEMPERATURE] = 30.0
    await device.notify(TEMPERATURE)
    device.values[TEMPERATURE] = 31.0
    await device.notify(TEMPERATURE)
    assert (await handle.next(WAIT)).value == 30.0
    assert (await handle.next(WAIT)).value == 31.0
    device.values[TEMPERATURE] = 32.0
    result = await handle.cancel()
    assert result.ok and result.operation is Operation.CANCEL_OBSERVATION
    assert result.value == 32.0 and result.request_id == handle.request_id
    cancel = device.seen[-1]
    assert (cancel.method, cancel.observe, cancel.token) == ("GET", 1, handle.token)
    assert not handle.active and server.observations() == []
    assert device.observers[TEMPERATURE] == []
    assert [n async for n in handle] == []  # iteration ends


async def test_cancel_by_reset_answers_the_next_notification_with_rst(
    server: Lwm2mServer, device: FakeDevice
) -> None:
    handle = await server.observe("dev1", "/3303/0/5700")
    handle.cancel_by_reset()
    assert not handle.active and server.find_observation("dev1", "/3303/0/5700") is None
    assert await device.notify(TEMPERATURE, confirmable=True) == [False]  # RST
    assert not device.endpoint.observing(server.address, handle.token)
    assert handle.count == 0 and server.counters.notifications == 0
    with pytest.raises(StopAsyncIteration):
        await handle.next(WAIT)


async def test_error_notification_ends_the_observation(
    server: Lwm2mServer, device: FakeDevice
) -> None:
    handle = await server.observe("dev1", "/3303/0/5700")
    await device.notify_error(TEMPERATURE, Code.NOT_FOUND)
    final = await handle.next(WAIT)
    assert final.code == "4.04" and final.values == {}
    with pytest.raises(StopAsyncIteration):
        await handle.next(WAIT)
    assert server.observations() == []


async def test_rejected_observe_gives_an_inactive_handle(
    server: Lwm2mServer, device: FakeDevice
) -> None:
    device.forced[("GET", TEMPERATURE)] = Code.METHOD_NOT_ALLOWED
    handle = await server.observe("dev1", "/3303/0/5700")
    assert handle.result is not None and handle.result.code == "4.05"
    assert not handle.active and server.observations() == []


async def test_deregistration_ends_observations(server: Lwm2mServer, device: FakeDevice) -> None:
    handle = await server.observe("dev1", "/3303/0/5700")
    waiting = asyncio.create_task(handle.next(WAIT))
    await device.deregister()
    with pytest.raises(StopAsyncIteration):
        await waiting
    assert not handle.active and server.observations() == []


async def test_observe_composite(server: Lwm2mServer, device: FakeDevice) -> None:
    handle = await server.observe_composite("dev1", ["/3303/0/5700", "/3/0/9"], format=F.SENML_JSON)
    assert handle.path is None and handle.paths == (TEMPERATURE, Path(3, 0, 9))
    assert handle.result is not None
    assert dict(handle.result.values) == {TEMPERATURE: 21.5, Path(3, 0, 9): 72}
    seen = device.seen[-1]
    assert (seen.method, seen.observe, seen.content_format) == ("FETCH", 0, F.SENML_JSON)
    device.values[TEMPERATURE] = 5.0
    device.values[Path(3, 0, 9)] = 40
    await device.notify(Path())
    note = await handle.next(WAIT)
    assert dict(note.values) == {TEMPERATURE: 5.0, Path(3, 0, 9): 40}
    result = await handle.cancel()
    assert result.ok and device.seen[-1].method == "FETCH" and device.seen[-1].observe == 1
    assert device.observers[Path()] == []


async def test_two_devices_keep_their_observations_apart(
    server: Lwm2mServer, make_device: DeviceFactory
) -> None:
    first = await make_device("a")
    second = await make_device("b")
    ha = await server.observe("a", "/3303/0/5700")
    hb = await server.observe("b", "/3303/0/5700")
    second.values[TEMPERATURE] = -7.5
    await second.notify(TEMPERATURE)
    assert (await hb.next(WAIT)).value == -7.5
    assert ha.pending() == [] and ha.count == 0
    assert first.values[TEMPERATURE] == 21.5
    assert {h.endpoint for h in server.observations()} == {"a", "b"}


async def test_an_update_while_observing_keeps_the_observation(
    server: Lwm2mServer, device: FakeDevice
) -> None:
    async def update_first() -> None:
        assert (await device.update(["lt=120"])).code == Code.CHANGED

    device.before_answer = update_first
    handle = await server.observe("dev1", "/3303/0/5700")
    assert handle.active and server.observations() == [handle]
    registration = server.registration("dev1")
    assert registration is not None and registration.lifetime == 120
    device.values[TEMPERATURE] = 1.0
    await device.notify(TEMPERATURE)
    assert (await handle.next(WAIT)).value == 1.0
