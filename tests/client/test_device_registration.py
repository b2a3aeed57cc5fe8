"""The registration lifecycle of a device, with a ManualClock and the fake server over UDP.

Register, Updates on time and on change, 4.04 -> fresh Register, retries with
the back-off of the Server object's resources, timeouts, reboot, disable,
factory reset and De-register on stop.
"""

from __future__ import annotations

import asyncio

import pytest

from fleet.client.device import Device
from fleet.client.events import (
    Deregistered,
    Registered,
    RegistrationFailed,
    RequestServed,
    Updated,
)
from fleet.client.registration import RegistrationState, RetryPolicy, update_due
from fleet.clock import ManualClock
from fleet.codec import parse_links

from .fakes import GET, POST, PUT, EventLog, FakeServer, device_config, registered_device

pytestmark = pytest.mark.asyncio

EP = "dev-1"


async def test_register_announces_the_device(server: FakeServer) -> None:
    log = EventLog()
    async with registered_device(server, EP, lifetime=300, binding="UQ", log=log) as device:
        seen = server.seen[0]
        assert seen.kind == "register"
        assert seen.query == ("ep=dev-1", "lt=300", "lwm2m=1.1", "b=U", "Q")
        assert int(seen.request.opt.content_format) == 40
        links = parse_links(seen.payload)
        targets = [link.target for link in links]
        assert targets == [
            *("/", "/1", "/1/0", "/3", "/3/0", "/6", "/6/0", "/3303", "/3303/0", "/3442/0")
        ]
        assert links[0].attributes == {"ct": "112"}  # a 1.1 device prefers SenML CBOR
        assert device.state is RegistrationState.REGISTERED and device.registered.is_set()
        assert device.registrar.location == ("rd", "1")
        assert seen.remote == device.address
        registered = log.of(Registered)
        assert [(e.location, e.lifetime) for e in registered] == [("/rd/1", 300)]


async def test_updates_come_before_the_lifetime_ends(server: FakeServer) -> None:
    clock = ManualClock()
    log = EventLog()
    async with registered_device(server, EP, clock=clock, lifetime=300, log=log):
        due = update_due(0.0, 300)
        assert due == 207.0  # lifetime minus MAX_TRANSMIT_WAIT (93 s)
        await clock.advance(due - 0.5)
        assert server.pending("update") == 0
        await clock.advance(0.5)
        update = await server.next("update")
        assert update.query == () and update.payload == b""  # nothing changed
        assert update.request.opt.uri_path == ("rd", "1")
        await log.next(Updated)
        await clock.advance(due - 0.5)
        assert server.pending("update") == 0
        await clock.advance(0.5)
        await server.next("update")
        await log.next(Updated)
        assert server.count("register") == 1


async def test_writing_the_lifetime_sends_an_update(server: FakeServer) -> None:
    clock = ManualClock()
    log = EventLog()
    async with registered_device(server, EP, clock=clock, lifetime=300, log=log) as device:
        written = await server.request(EP, PUT, "/1/0/1", payload=b"1000", content_format=0)
        assert int(written.code) == 68
        update = await server.next("update")
        assert update.query == ("lt=1000",)
        await log.next(Updated)
        assert device.registration_params().lifetime == 1000
        # the next periodic Update follows the new lifetime
        await clock.advance(update_due(0.0, 1000) - 1)
        assert server.pending("update") == 0
        await clock.advance(1)
        assert (await server.next("update")).query == ()


async def test_writing_the_binding_sends_an_update(server: FakeServer) -> None:
    async with registered_device(server, EP, binding="U"):
        await server.request(EP, PUT, "/1/0/7", payload=b"UQ", content_format=0)
        update = await server.next("update")
        assert update.query == ("b=U", "Q")


async def test_same_value_written_sends_no_update(server: FakeServer) -> None:
    async with registered_device(server, EP, lifetime=300):
        await server.request(EP, PUT, "/1/0/1", payload=b"300", content_format=0)
        await server.request(EP, GET, "/3/0/0")  # one more round trip
        assert server.pending("update") == 0


async def test_update_trigger_and_new_instances_send_updates(server: FakeServer) -> None:
    log = EventLog()
    async with registered_device(server, EP, log=log):
        executed = await server.request(EP, POST, "/1/0/8")
        assert int(executed.code) == 68
        plain = await server.next("update")
        assert plain.payload == b""
        await log.next(Updated)
        created = await server.request(EP, POST, "/3303")
        assert tuple(created.opt.location_path) == ("3303", "1")
        update = await server.next("update")
        assert "</3303/1>" in update.payload.decode()
        assert int(update.request.opt.content_format) == 40
        assert (await log.next(Updated)).links is True
        assert "</3303/1>" in server.client(EP).links


async def test_update_answered_404_registers_again(server: FakeServer) -> None:
    clock = ManualClock()
    log = EventLog()
    async with registered_device(server, EP, clock=clock, lifetime=300, log=log) as device:
        log.skip(Registered)
        server.forget(EP)
        await clock.advance(207)
        update = await server.next("update")
        assert update.answer == 132
        register = await server.next("register")
        assert register.query[0] == "ep=dev-1"
        event = await log.next(Registered)
        assert event.location == "/rd/2"
        assert device.registrar.location == ("rd", "2") and device.registered.is_set()


async def test_register_retries_follow_the_retry_policy(server: FakeServer) -> None:
    clock = ManualClock()
    log = EventLog()
    policy = RetryPolicy(retry_count=3, retry_timer=10, sequence_delay=100, sequence_retry_count=2)
    device = Device(device_config(server, EP, retry=policy), clock=clock)
    device.add_listener(log)
    server.answer_next("register", *[163] * 6)  # 5.03 six times
    assert device.retry_policy() == policy  # read back from /1/0/17..20
    await device.start()
    try:
        delays: list[float | None] = []
        for _ in range(6):
            await server.next("register")
            failed = await log.next(RegistrationFailed)
            assert failed.reason == "answered 5.03 Service Unavailable"
            assert failed.cause == "5.03 Service Unavailable"
            delays.append(failed.retry_in)
            if failed.retry_in is None:
                break
            assert device.state is RegistrationState.WAITING_RETRY
            await clock.advance(failed.retry_in - 0.01)
            assert server.pending("register") == 0  # no tight loop
            await clock.advance(0.01)
        assert delays == [10, 20, 100, 10, 20, None]
        assert device.state is RegistrationState.FAILED
        await clock.advance(100_000)
        assert server.count("register") == 6
    finally:
        await device.stop()


async def test_a_silent_server_times_out_and_register_is_retried(server: FakeServer) -> None:
    clock = ManualClock()
    log = EventLog()
    device = Device(
        device_config(server, EP, exchange_timeout=30, retry=RetryPolicy(retry_timer=60)),
        clock=clock,
    )
    device.add_listener(log)
    server.answer_next("register", None)  # empty ACK, then nothing
    await device.start()
    try:
        await server.next("register")
        await clock.advance(30)
        failed = await log.next(RegistrationFailed)
        assert "CoapTimeout" in failed.reason and failed.retry_in == 60
        await clock.advance(60)
        await server.next("register")
        await device.registered.wait()
    finally:
        await device.stop()


async def test_failed_update_loses_the_registration_and_retries_register(
    server: FakeServer,
) -> None:
    clock = ManualClock()
    log = EventLog()
    async with registered_device(
        server, EP, clock=clock, lifetime=300, log=log, retry=RetryPolicy(retry_timer=5)
    ) as device:
        server.answer_next("update", 160)  # 5.00
        await clock.advance(207)
        await server.next("update")
        failed = await log.next(RegistrationFailed)
        assert (failed.operation, failed.retry_in) == ("Update", 5)
        assert not device.registered.is_set()
        log.skip(Registered)
        await clock.advance(5)
        await server.next("register")
        await log.next(Registered)
        assert device.registered.is_set()


async def test_stop_deregisters(server: FakeServer) -> None:
    log = EventLog()
    async with registered_device(server, EP, log=log) as device:
        port = device.address
        await device.stop()
        deregister = await server.next("deregister")
        assert deregister.request.opt.uri_path == ("rd", "1") and deregister.answer == 66
        assert deregister.remote == port
        assert device.state is RegistrationState.STOPPED and device.endpoint is None
        assert [(e.location, e.answered) for e in log.of(Deregistered)] == [("/rd/1", True)]
        assert not server.clients


async def test_reboot_answers_deregisters_and_comes_back(server: FakeServer) -> None:
    clock = ManualClock()
    log = EventLog()
    async with registered_device(server, EP, clock=clock, log=log, reboot_delay=5) as device:
        await server.request(EP, PUT, "/3442/0/110", payload=b"kept", content_format=0)
        first_address = device.address
        response = await server.request(EP, POST, "/3/0/4")
        assert int(response.code) == 68  # the Execute is answered first
        served = [e for e in log.of(RequestServed) if e.path == "/3/0/4"]
        assert served and served[0].code == "2.04"
        await server.next("deregister")
        await log.next(Deregistered)
        assert device.state is RegistrationState.REBOOTING and device.endpoint is None
        assert not device.registered.is_set()
        await clock.advance(4.9)
        assert server.pending("register") == 0
        log.skip(Registered)
        await clock.advance(0.1)
        register = await server.next("register")
        await log.next(Registered)
        assert register.remote != first_address  # a new socket after the reboot
        assert device.tree.value("/3442/0/110") == "kept"


async def test_disable_stays_away_for_the_disable_timeout(server: FakeServer) -> None:
    clock = ManualClock()
    log = EventLog()
    async with registered_device(server, EP, clock=clock, log=log) as device:
        await server.request(EP, PUT, "/1/0/5", payload=b"30", content_format=0)
        await server.request(EP, POST, "/1/0/4")
        assert (await log.next(Deregistered)).reason == "disable"
        await clock.advance(29)
        assert server.pending("register") == 0 and not device.registered.is_set()
        await clock.advance(1)
        await server.next("register")
        await device.registered.wait()


async def test_factory_reset_restores_the_configured_lifetime(server: FakeServer) -> None:
    log = EventLog()
    async with registered_device(server, EP, lifetime=300, log=log) as device:
        await server.request(EP, PUT, "/1/0/1", payload=b"900", content_format=0)
        assert (await server.next("update")).query == ("lt=900",)
        await log.next(Updated)
        await server.request(EP, POST, "/3/0/5")
        assert (await server.next("update")).query == ("lt=300",)
        assert device.tree.value("/1/0/1") == 300


async def test_server_object_reflects_the_configuration(server: FakeServer) -> None:
    async with registered_device(
        server,
        EP,
        lifetime=120,
        binding="UQ",
        send_enabled=False,
        default_pmin=2,
        default_pmax=50,
        short_server_id=7,
        retry=RetryPolicy(retry_count=2, retry_timer=9, sequence_delay=99, sequence_retry_count=3),
    ) as device:
        stored = {rid: device.tree.stored(1, 0, rid) for rid in (0, 1, 2, 3, 7, 17, 18, 19, 20, 23)}
        assert stored == {
            0: 7, 1: 120, 2: 2, 3: 50, 7: "UQ", 17: 2, 18: 9, 19: 99, 20: 3, 23: True
        }  # fmt: skip
        security = {rid: device.tree.stored(0, 0, rid) for rid in (0, 1, 2, 10)}
        assert security == {0: server.uri, 1: False, 2: 3, 10: 7}


async def test_update_asked_while_registering_follows_the_register(server: FakeServer) -> None:
    clock = ManualClock()
    log = EventLog()
    device = Device(device_config(server, EP), clock=clock)
    device.add_listener(log)
    await device.start()
    try:
        device.request_update()  # the Register is in flight
        await log.next(Registered)
        await server.next("update")
        await log.next(Updated)
    finally:
        await device.stop()


async def test_no_task_is_left_while_idle(server: FakeServer) -> None:
    before = len(asyncio.all_tasks())
    async with registered_device(server, EP, lifetime=300) as device:
        await server.request(EP, GET, "/3/0")
        assert len(asyncio.all_tasks()) == before
        assert not device.registrar.busy


async def test_two_reboots_in_a_row_come_back_once(server: FakeServer) -> None:
    clock = ManualClock()
    log = EventLog()
    async with registered_device(server, EP, clock=clock, log=log, reboot_delay=5) as device:
        # both sent before either is answered: the device may de-register as soon as it
        # answered the first (at once on uvloop), after which the fake server forgets it
        await asyncio.gather(*(server.request(EP, POST, "/3/0/4") for _ in range(2)))
        await log.next(Deregistered)
        await clock.advance(5)
        await server.next("register")
        await device.registered.wait()
        await clock.advance(100)
        assert server.count("register") == 2 and server.count("deregister") == 1


async def test_reboot_api_and_stop_while_away(server: FakeServer) -> None:
    clock = ManualClock()
    async with registered_device(server, EP, clock=clock) as device:
        await device.reboot(delay=10)
        assert device.state is RegistrationState.REBOOTING
        await device.stop()
        assert device.state is RegistrationState.STOPPED
        await clock.advance(60)
        assert server.count("register") == 1 and device.endpoint is None
        await device.reboot()  # a stopped device stays stopped
        assert device.state is RegistrationState.STOPPED
