"""Queue mode (binding UQ): sleeping after awake_time, ignoring the server, waking, storing.

The devices run on a ManualClock; the fake server and the embedded server on the loop clock,
so a request to a sleeping device is given a short real timeout.
"""

from __future__ import annotations

import asyncio
import random

import pytest
from aiocoap import Message

from fleet.client.coap.errors import CoapTimeout
from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.events import NotificationSent, Slept, Updated, Woke
from fleet.client.queue import (
    NotifyAction,
    QueueRules,
    notification_action,
    notify_wakes_by_default,
    sleeps_at,
)
from fleet.client.registration import update_due
from fleet.clock import ManualClock
from fleet.server import DeviceTimeout, Lwm2mServer

from .fakes import GET, WAIT, EventLog, FakeServer, next_notification, registered_device

EP = "dev-1"
TEMPERATURE = "/3303/0/5700"
SHORT = 0.3  # real seconds a server waits for a sleeping device (it never answers)


def test_rules_follow_the_spec_versions() -> None:
    assert notify_wakes_by_default("1.1") and notify_wakes_by_default("1.2")
    assert not notify_wakes_by_default("1.0")
    wakes, waits = QueueRules(93.0, True), QueueRules(93.0, False)
    assert notification_action(wakes, asleep=False) is NotifyAction.SEND
    assert notification_action(wakes, asleep=True) is NotifyAction.WAKE_AND_SEND
    assert notification_action(waits, asleep=True) is NotifyAction.STORE
    assert sleeps_at(10.0, waits) == 103.0


async def _read(server: FakeServer, device: Device, path: str) -> Message:
    message = Message(code=GET, uri_path=tuple(path.strip("/").split("/")))
    assert device.address is not None
    return await server.endpoint.request(message, device.address, timeout=SHORT)


@pytest.mark.asyncio
async def test_a_uq_device_sleeps_ignores_the_server_and_wakes_for_its_update(
    server: FakeServer,
) -> None:
    clock, log = ManualClock(), EventLog()
    async with registered_device(
        server, EP, clock=clock, log=log, binding="UQ", awake_time=10.0, lifetime=300
    ) as device:
        assert int((await _read(server, device, "/3/0/0")).code) == 69  # awake
        await clock.advance(9.5)
        assert not device.asleep
        await clock.advance(0.5)
        slept = await log.next(Slept)
        assert device.asleep and slept.time == 10.0 and slept.awake_for == 10.0
        with pytest.raises(CoapTimeout):
            await _read(server, device, "/3/0/0")
        assert device.endpoint is not None and device.endpoint.stats().ignored >= 1
        await clock.advance(update_due(0.0, 300) - 10.0)
        woke = await log.next(Woke)
        assert woke.reason == "update" and woke.slept_for == update_due(0.0, 300) - 10.0
        await server.next("update")
        updated = await log.next(Updated)
        assert updated.started == update_due(0.0, 300)
        assert int((await _read(server, device, "/3/0/0")).code) == 69  # awake again


@pytest.mark.asyncio
async def test_a_plain_udp_device_never_sleeps(server: FakeServer) -> None:
    clock, log = ManualClock(), EventLog()
    async with registered_device(server, EP, clock=clock, log=log, awake_time=10.0) as device:
        await clock.advance(50.0)
        assert not device.asleep and device.queue is None and not log.of(Slept)
        assert int((await _read(server, device, "/3/0/0")).code) == 69


@pytest.mark.asyncio
async def test_a_1_1_device_wakes_to_notify_at_once(server: FakeServer) -> None:
    clock, log = ManualClock(), EventLog()
    async with registered_device(
        server, EP, clock=clock, log=log, binding="UQ", awake_time=10.0, lifetime=3000
    ) as device:
        observation = server.observe(EP, TEMPERATURE, query=("pmin=0",))
        await observation.response
        await clock.advance(10.0)
        await log.next(Slept)
        await clock.advance(20.0)
        device.tree.set_value(TEMPERATURE, 31.5)
        woke = await log.next(Woke)
        assert woke.reason == "notify" and woke.time == 30.0
        note = await next_notification(observation)
        assert note.payload == b"31.5"
        sent = await log.next(NotificationSent)
        assert sent.due == 30.0 and sent.delay == 0.0
        assert not device.asleep
        await clock.advance(10.0)  # awake_time after the notification
        await log.next(Slept)


@pytest.mark.asyncio
async def test_a_1_0_device_stores_notifications_until_its_next_update(
    server: FakeServer,
) -> None:
    clock, log = ManualClock(), EventLog()
    async with registered_device(
        server,
        EP,
        clock=clock,
        log=log,
        binding="UQ",
        lwm2m_version="1.0",
        awake_time=10.0,
        lifetime=300,
    ) as device:
        assert server.seen[0].query[-1] == "b=UQ"
        observation = server.observe(EP, TEMPERATURE, query=("pmin=0",))
        await observation.response
        await clock.advance(10.0)
        await log.next(Slept)
        await clock.advance(10.0)
        device.tree.set_value(TEMPERATURE, 40.0)
        await clock.advance(10.0)
        device.tree.set_value(TEMPERATURE, 41.0)
        assert device.queue is not None and device.queue.stored == 2
        assert not log.of(NotificationSent) and device.asleep
        due = update_due(0.0, 300)
        await clock.advance(due - 30.0)
        woke = await log.next(Woke)
        assert (woke.reason, woke.stored) == ("update", 2)
        await server.next("update")
        first = await next_notification(observation)
        second = await next_notification(observation)
        assert (first.payload, second.payload) == (b"40.0", b"41.0")
        sent = log.of(NotificationSent)
        assert [(e.due, e.time) for e in sent] == [(20.0, due), (30.0, due)]
        assert sent[0].delay == due - 20.0
        assert device.queue.stored == 0


@pytest.mark.asyncio
async def test_the_embedded_server_times_out_on_a_sleeping_device_and_gets_stored_notes() -> None:
    clock, log = ManualClock(), EventLog()
    server = await Lwm2mServer.start()
    async with server:
        config = DeviceConfig(
            endpoint=EP,
            server=server.uri,
            binding="UQ",
            lwm2m_version="1.0",
            awake_time=20.0,
            lifetime=300,
        )
        device = Device(config, clock=clock, rng=random.Random(3))
        device.add_listener(log)
        await device.start()
        try:
            await asyncio.wait_for(device.registered.wait(), WAIT)
            await server.wait_for_registration(EP, WAIT)
            handle = await server.observe(EP, TEMPERATURE, pmin=0, timeout=WAIT)
            await clock.advance(20.0)
            await log.next(Slept)
            with pytest.raises(DeviceTimeout):
                await server.read(EP, "/3/0/0", timeout=SHORT)
            device.tree.set_value(TEMPERATURE, 12.5)
            assert device.queue is not None and device.queue.stored == 1
            await clock.advance(update_due(0.0, 300) - 20.0)
            await log.next(Updated)
            note = await handle.next(WAIT)
            assert note.value == 12.5
            read = await server.read(EP, "/3/0/0", timeout=WAIT)
            assert read.ok
        finally:
            await device.stop(deregister=False)


@pytest.mark.asyncio
async def test_a_served_request_keeps_the_device_awake_and_a_deregister_wakes_it(
    server: FakeServer,
) -> None:
    clock, log = ManualClock(), EventLog()
    async with registered_device(
        server, EP, clock=clock, log=log, binding="UQ", awake_time=10.0, lifetime=3000
    ) as device:
        await clock.advance(8.0)
        assert int((await _read(server, device, "/3/0/0")).code) == 69
        await clock.advance(8.0)  # 16 s after the Register, 8 s after the Read
        assert not device.asleep
        await clock.advance(2.0)
        await log.next(Slept)
        await device.stop()
        woke = await log.next(Woke)
        assert woke.reason == "de-register" and woke.time == 18.0
        assert (await server.next("deregister")).answer == 66


@pytest.mark.asyncio
async def test_a_1_1_device_can_be_told_to_wait_for_its_update(server: FakeServer) -> None:
    clock, log = ManualClock(), EventLog()
    device = Device(
        DeviceConfig(endpoint=EP, server=server.uri, binding="UQ", awake_time=5.0, lifetime=300),
        clock=clock,
        rng=random.Random(2),
    )
    device.queue_notify_wakes = False
    device.add_listener(log)
    await device.start()
    try:
        await asyncio.wait_for(device.registered.wait(), WAIT)
        observation = server.observe(EP, TEMPERATURE, query=("pmin=0",))
        await observation.response
        await clock.advance(5.0)
        await log.next(Slept)
        device.tree.set_value(TEMPERATURE, 18.0)
        assert device.queue is not None and device.queue.stored == 1 and device.asleep
        device.request_update()  # an Update for another reason also brings them
        await server.next("update")
        assert (await next_notification(observation)).payload == b"18.0"
        assert device.queue.stored == 0
    finally:
        await device.stop(deregister=False)
