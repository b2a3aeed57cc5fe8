"""Send (POST /dp), the event API, counters and reset()."""

from __future__ import annotations

import asyncio

import pytest
from aiocoap import Message
from aiocoap.numbers.codes import Code

from fleet.codec import ContentFormat
from fleet.model import Path
from fleet.server import EventKind, Lwm2mServer, ServerClosed, ServerEvent
from tests.server.conftest import DeviceFactory
from tests.server.fakes import FakeDevice

pytestmark = pytest.mark.asyncio
WAIT = 5.0


@pytest.mark.parametrize("fmt", [ContentFormat.SENML_CBOR, ContentFormat.SENML_JSON])
async def test_send_records_values_and_emits_an_event(
    server: Lwm2mServer, device: FakeDevice, fmt: ContentFormat
) -> None:
    sent = server.expect(EventKind.SEND, endpoint="dev1")
    values = {Path(3303, 0, 5700): 24.25, Path(3, 0, 9): 55, Path(6, 0, 0): 48.1}
    response = await device.send(values, fmt)
    assert response.code == Code.CHANGED
    event = await asyncio.wait_for(sent, WAIT)
    assert dict(event.values) == values
    assert {t.path for t in event.timed} == set(values)
    record = server.device("dev1")
    assert record is not None
    assert all(record.values[p] == v for p, v in values.items())
    assert server.counters.sends == 1


async def test_send_refusals(server: Lwm2mServer, make_device: DeviceFactory) -> None:
    device = await make_device("dev1")
    stranger = await make_device("stranger", register=False)
    values = {Path(3303, 0, 5700): 1.0}
    assert (await stranger.send(values)).code == Code.NOT_FOUND
    bad = Message(code=Code.POST, uri_path=("dp",), payload=b"\x00garbage")
    bad.opt.content_format = ContentFormat.SENML_CBOR
    assert (await device.endpoint.request(bad, server.address)).code == Code.BAD_REQUEST
    text = Message(code=Code.POST, uri_path=("dp",), payload=b"21.5")
    text.opt.content_format = ContentFormat.TEXT
    assert (await device.endpoint.request(text, server.address)).code == 143  # 4.15
    empty = Message(code=Code.POST, uri_path=("dp",))
    assert (await device.endpoint.request(empty, server.address)).code == Code.BAD_REQUEST
    get = Message(code=Code.GET, uri_path=("dp",))
    assert (await device.endpoint.request(get, server.address)).code == Code.METHOD_NOT_ALLOWED
    assert server.counters.sends == 0


async def test_event_chain_of_one_device(server: Lwm2mServer, make_device: DeviceFactory) -> None:
    seen: list[ServerEvent] = []
    remove = server.add_listener(seen.append)
    async with server.events(endpoint="dev1") as stream:
        device = await make_device("dev1")
        await server.read("dev1", "/3/0/0", request_id="r-1")
        await device.update()
        await device.deregister()
        kinds = [(await stream.next(WAIT)).kind for _ in range(4)]
    assert kinds == [
        EventKind.REGISTRATION,
        EventKind.RESPONSE,
        EventKind.UPDATE,
        EventKind.DEREGISTRATION,
    ]
    assert [e.kind for e in seen] == kinds
    response = seen[1]
    assert response.request_id == "r-1" and response.result is not None
    assert response.values == {Path(3, 0, 0): "My Demo Device"}
    assert response.time_ms == round(response.time * 1000)
    assert [e.kind for e in server.recent_events] == kinds
    remove()
    await make_device("dev2")
    assert len(seen) == 4


async def test_streams_filter_and_end_when_closed(
    server: Lwm2mServer, make_device: DeviceFactory
) -> None:
    only_b = server.events(EventKind.REGISTRATION, endpoint="b")
    await make_device("a")
    await make_device("b")
    event = await only_b.next(WAIT)
    assert (event.kind, event.endpoint) == (EventKind.REGISTRATION, "b")
    only_b.close()
    assert [e async for e in only_b] == []


async def test_stream_drops_the_oldest_when_full(
    server: Lwm2mServer, make_device: DeviceFactory
) -> None:
    small = server.events(maxsize=2)
    for name in ("a", "b", "c"):
        await make_device(name)
    assert small.dropped == 1
    assert [(await small.next(WAIT)).endpoint for _ in range(2)] == ["b", "c"]


async def test_expect_with_a_predicate(server: Lwm2mServer, device: FakeDevice) -> None:
    waiting = server.expect(
        EventKind.RESPONSE, predicate=lambda e: e.result is not None and not e.result.ok
    )
    await server.read("dev1", "/3/0/0")
    assert not waiting.done()
    await server.read("dev1", "/3/0/99")
    event = await asyncio.wait_for(waiting, WAIT)
    assert event.result is not None and event.result.code == "4.04"


async def test_counters_snapshot_and_reset(server: Lwm2mServer, device: FakeDevice) -> None:
    await server.read("dev1", "/3/0")
    await server.read("dev1", "/3/0/99")
    await server.write("dev1", "/3442/0/110", "x")
    handle = await server.observe("dev1", "/3303/0/5700")
    snapshot = server.counters.snapshot()
    assert snapshot["registrations"] == 1
    assert snapshot["requests.read"] == 2 and snapshot["requests.write"] == 1
    assert snapshot["requests.observe"] == 1
    assert snapshot["responses.2.05"] == 2 and snapshot["responses.4.04"] == 1
    assert server.stats()["registered"] == 1 and server.stats()["observations"] == 1

    server.reset()
    assert not handle.active and server.observations() == []
    assert server.registrations() == [] and server.device("dev1") is None
    assert server.counters.snapshot()["registrations"] == 0
    assert server.recent_events == []
    assert (await device.update()).code == Code.NOT_FOUND  # forgotten: register again
    assert (await device.register()).code == Code.CREATED
    await server.wait_for_registration("dev1", WAIT)


async def test_stop_ends_streams_and_refuses_requests(make_device: DeviceFactory) -> None:
    server = await Lwm2mServer.start()
    stream = server.events()
    device = await FakeDevice.start(server.address, "dev1")
    try:
        await device.register()
        await server.wait_for_registration("dev1", WAIT)
        handle = await server.observe("dev1", "/3303/0/5700")
        await server.stop()
        await server.stop()  # idempotent
        assert not server.running and not handle.active
        assert [e.kind async for e in stream] == [EventKind.REGISTRATION, EventKind.RESPONSE]
        with pytest.raises(ServerClosed):
            await server.read("dev1", "/3/0")
    finally:
        device.close()
