"""The Registration interface over real UDP: Register, Update, De-register, expiry, hooks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiocoap import Message
from aiocoap.numbers.codes import Code

from fleet.clock import ManualClock
from fleet.codec import ContentFormat
from fleet.model import Path
from fleet.server import EventKind, EventStream, Lwm2mServer, ServerEvent, UnknownEndpoint
from tests.server.conftest import DeviceFactory
from tests.server.fakes import FakeDevice

pytestmark = pytest.mark.asyncio
WAIT = 5.0


async def test_register_answers_created_with_location_and_records_the_device(
    server: Lwm2mServer, make_device: DeviceFactory
) -> None:
    events = server.events()
    device = await make_device("dev1", register=False)
    response = await device.register()
    assert response.code == Code.CREATED
    assert device.location[0] == "rd" and len(device.location) == 2
    registration = await server.wait_for_registration("dev1", WAIT)
    assert registration.location == device.location[1]
    assert registration.address == device.address
    assert (registration.lifetime, registration.lwm2m_version, registration.binding) == (
        60,
        "1.1",
        "U",
    )
    record = server.device("dev1")
    assert record is not None and record.registered
    assert record.objects.objects == (3, 6, 3303, 3442)
    assert record.objects.instances[3442] == (0,)
    assert record.objects.versions[3] == "1.1"  # core object of a 1.1 client says ver
    assert record.versions[3] == "1.1" and record.versions[3303] == "1.1"
    event = await events.next(WAIT)
    assert event.kind is EventKind.REGISTRATION and event.endpoint == "dev1"
    assert event.registration == registration
    assert server.registrations() == [registration]
    assert server.counters.registrations == 1


@pytest.mark.parametrize(
    ("query", "payload", "code"),
    [
        (["lt=60"], b"</3/0>", Code.BAD_REQUEST),  # no endpoint name
        (["ep=x", "lt=abc"], b"</3/0>", Code.BAD_REQUEST),
        (["ep=x", "lt=0"], b"</3/0>", Code.BAD_REQUEST),
        (["ep=x", "lwm2m=9.9"], b"</3/0>", Code.BAD_REQUEST),
        (["ep=x", "lwm2m=one"], b"</3/0>", Code.BAD_REQUEST),
        (["ep=x", "b=X"], b"</3/0>", Code.BAD_REQUEST),
        (["ep=x", "b=UU"], b"</3/0>", Code.BAD_REQUEST),
        (["ep=x", "color=red"], b"</3/0>", Code.BAD_REQUEST),
        (["ep=x", "ep=y"], b"</3/0>", Code.BAD_REQUEST),
        (["ep=x"], b"garbage", Code.BAD_REQUEST),
        (["ep=x"], b"", Code.BAD_REQUEST),
        (["ep=x"], b"</3/0/1/2/3>", Code.BAD_REQUEST),
        (["ep=x"], b"</3>;ver=one", Code.BAD_REQUEST),
        (["ep=x"], b"</abc>", Code.BAD_REQUEST),
    ],
)
async def test_bad_register_is_refused_and_nothing_is_recorded(
    server: Lwm2mServer,
    make_device: DeviceFactory,
    query: list[str],
    payload: bytes,
    code: Code,
) -> None:
    device = await make_device("x", register=False)
    response = await device.register(query=query, payload=payload)
    assert response.code == code
    assert server.registrations() == [] and server.device("x") is None
    assert server.counters.rejected == 1 and server.recent_events == []


async def test_register_in_another_format_is_415_and_wrong_methods_are_405(
    server: Lwm2mServer, make_device: DeviceFactory
) -> None:
    device = await make_device("x", register=False)
    message = Message(code=Code.POST, uri_path=("rd",), uri_query=("ep=x",), payload=b"</3/0>")
    message.opt.content_format = ContentFormat.TEXT
    assert (await device.endpoint.request(message, server.address)).code == 143  # 4.15
    get = Message(code=Code.GET, uri_path=("rd",))
    assert (await device.endpoint.request(get, server.address)).code == Code.METHOD_NOT_ALLOWED
    other = Message(code=Code.GET, uri_path=("bs",))
    assert (await device.endpoint.request(other, server.address)).code == Code.NOT_FOUND


async def test_update_refreshes_lifetime_links_and_address(
    server: Lwm2mServer, device: FakeDevice
) -> None:
    before = server.registration("dev1")
    assert before is not None
    updates = server.expect(EventKind.UPDATE, endpoint="dev1")
    response = await device.update(["lt=300"], b"</3/0>,</3303/0>,</3303/1>")
    assert response.code == Code.CHANGED
    event = await asyncio.wait_for(updates, WAIT)
    after = server.registration("dev1")
    assert after is not None and event.registration == after
    assert after.lifetime == 300 and after.location == before.location
    record = server.device("dev1")
    assert record is not None
    assert record.objects.instances == {3: (0,), 3303: (0, 1)}
    assert record.updated_at == after.updated_wall
    assert server.counters.updates == 1


async def test_update_with_bad_query_or_links_is_refused_and_changes_nothing(
    server: Lwm2mServer, device: FakeDevice
) -> None:
    assert (await device.update(["ep=other"])).code == Code.BAD_REQUEST
    assert (await device.update([], b"<<garbage")).code == Code.BAD_REQUEST
    registration = server.registration("dev1")
    assert registration is not None and registration.lifetime == 60
    assert server.counters.updates == 0 and server.counters.rejected == 2


async def test_update_and_deregister_of_unknown_location_are_404(
    server: Lwm2mServer, device: FakeDevice
) -> None:
    device.location = ("rd", "nope")
    assert (await device.update()).code == Code.NOT_FOUND
    assert (await device.deregister()).code == Code.NOT_FOUND


async def test_deregister_removes_the_registration_but_keeps_the_record(
    server: Lwm2mServer, device: FakeDevice
) -> None:
    gone = server.expect(EventKind.DEREGISTRATION, endpoint="dev1")
    assert (await device.deregister()).code == Code.DELETED
    event = await asyncio.wait_for(gone, WAIT)
    assert server.registration("dev1") is None and server.registrations() == []
    record = server.device("dev1")
    assert record is not None and not record.registered
    assert record.deregistered_at == event.time and record.expired_at is None
    assert (await device.deregister()).code == Code.NOT_FOUND
    with pytest.raises(UnknownEndpoint) as caught:
        await server.read("dev1", "/3/0")
    assert caught.value.status == 404


async def test_register_again_replaces_the_registration(
    server: Lwm2mServer, device: FakeDevice
) -> None:
    first = server.registration("dev1")
    assert (await device.register()).code == Code.CREATED
    second = server.registration("dev1")
    assert first is not None and second is not None
    assert second.location != first.location and len(server.registrations()) == 1
    device.location = first.location_path
    assert (await device.update()).code == Code.NOT_FOUND


async def test_registration_expires_on_the_servers_clock(make_device: DeviceFactory) -> None:
    clock = ManualClock()
    async with await Lwm2mServer.start(clock=clock) as server:
        device = await FakeDevice.start(server.address, "sleepy", lifetime=60)
        try:
            assert (await device.register()).code == Code.CREATED
            expired = server.expect(EventKind.EXPIRATION, endpoint="sleepy")
            await clock.advance(50)
            assert (await device.update()).code == Code.CHANGED  # expiry now at 110
            await clock.advance(59)
            assert not expired.done() and server.registration("sleepy") is not None
            await clock.advance(2)
            event = await asyncio.wait_for(expired, WAIT)
            assert event.time == clock.wall() - 1  # at 110 s: 60 s after the Update
            record = server.device("sleepy")
            assert record is not None and record.expired_at == event.time
            assert server.registration("sleepy") is None
            assert server.counters.expirations == 1
            assert (await device.update()).code == Code.NOT_FOUND
        finally:
            device.close()


async def test_wait_for_registration_waits_and_times_out(
    server: Lwm2mServer, make_device: DeviceFactory
) -> None:
    with pytest.raises(TimeoutError):
        await server.wait_for_registration("late", timeout=0.05)
    waiting = asyncio.create_task(server.wait_for_registration("late", WAIT))
    device = await make_device("late", register=False)
    await device.register()
    registration = await waiting
    assert registration.endpoint == "late"


async def test_read_on_register_fills_the_device_info(make_device: DeviceFactory) -> None:
    async with await Lwm2mServer.start(read_on_register=("/3", "/6")) as server:
        events = server.events()
        device = await FakeDevice.start(server.address, "dev1")
        try:
            await device.register()
            await server.wait_for_registration("dev1", WAIT, hooks=True)
            record = server.device("dev1")
            assert record is not None
            info = record.info
            assert info.manufacturer == "My Demo Device" and info.model == "Model 500"
            assert info.firmware_version == "1.0.0" and info.software_version == "1.0.2"
            assert info.system_time == 1752761133
            assert info.location == "geo:-20,-40.5"
            assert record.values[Path(3, 0, 9)] == 72
            kinds = [(e.kind, e.result.path if e.result else None) async for e in _take(events, 3)]
            assert kinds == [
                (EventKind.REGISTRATION, None),
                (EventKind.RESPONSE, Path(3)),
                (EventKind.RESPONSE, Path(6)),
            ]
            assert [s.path for s in device.seen] == [Path(3), Path(6)]
        finally:
            device.close()


async def test_read_on_register_goes_on_when_the_device_updates_meanwhile() -> None:
    async with await Lwm2mServer.start(read_on_register=("/3", "/6")) as server:
        device = await FakeDevice.start(server.address, "dev1")

        async def update_first() -> None:
            assert (await device.update(["lt=90"])).code == Code.CHANGED

        try:
            device.before_answer = update_first
            await device.register()
            await server.wait_for_registration("dev1", WAIT, hooks=True)
            assert [s.path for s in device.seen] == [Path(3), Path(6)]
            record = server.device("dev1")
            assert record is not None and record.info.location == "geo:-20,-40.5"
        finally:
            device.close()


async def test_read_on_register_skips_objects_the_device_lacks() -> None:
    async with await Lwm2mServer.start(read_on_register=("/3", "/6")) as server:
        values = {Path(3, 0, 0): "Only Device"}
        device = await FakeDevice.start(server.address, "dev1", values=values)
        try:
            await device.register()
            await server.wait_for_registration("dev1", WAIT, hooks=True)
            assert [s.path for s in device.seen] == [Path(3)]
            record = server.device("dev1")
            assert record is not None and record.info.location is None
        finally:
            device.close()


async def test_on_register_hooks_run_in_order_after_the_answer(server: Lwm2mServer) -> None:
    calls: list[str] = []

    async def first(srv: Lwm2mServer, registration: object) -> None:
        calls.append("first")
        result = await srv.read("dev1", "/3/0/0")
        calls.append(str(result.value))

    async def failing(srv: Lwm2mServer, registration: object) -> None:
        raise RuntimeError("hook bug")

    async def last(srv: Lwm2mServer, registration: object) -> None:
        calls.append("last")

    server.add_on_register(first)
    server.add_on_register(failing)
    remove = server.add_on_register(last)
    device = await FakeDevice.start(server.address, "dev1")
    try:
        await device.register()
        await server.wait_for_registration("dev1", WAIT, hooks=True)
        assert calls == ["first", "My Demo Device", "last"]
        remove()
        await device.register()
        await server.wait_for_registration("dev1", WAIT, hooks=True)
        assert calls[3:] == ["first", "My Demo Device"]
    finally:
        device.close()


async def _take(stream: EventStream, count: int) -> AsyncIterator[ServerEvent]:
    for _ in range(count):
        yield await stream.next(WAIT)
