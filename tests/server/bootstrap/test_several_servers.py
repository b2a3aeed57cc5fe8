"""A bootstrap that writes two LwM2M Server accounts: the device registers with each.

LwM2M 1.1 Core 6.2 (Client Registration Interface): the client registers with every LwM2M
Server it holds an account for (a Security instance joined to a Server instance by Short
Server ID, 5.2.7 / E.1 / E.2), each over the security mode its Security instance says and
with the lifetime and binding of its own Server instance; Updates, De-register and the
server's requests are per server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest

from fleet.client.bootstrap.configs import single
from fleet.client.bootstrap.rules import SecurityMode
from fleet.client.config import DeviceConfig
from fleet.client.credentials import key_lookup
from fleet.client.device import Device
from fleet.client.events import Deregistered, Registered, Updated
from fleet.client.registration import RegistrationState
from fleet.clock import ManualClock
from fleet.server import Lwm2mServer
from fleet.server.bootstrap import BootstrapServer, ServerAccountSpec
from fleet.server.events import EventKind
from tests.client.dtls.helpers import requires_dtls

from .helpers import SERVER_PSK, Log

pytestmark = pytest.mark.asyncio
WAIT = 10.0


@asynccontextmanager
async def two_servers(
    clock: ManualClock | None = None, *, secure_second: bool = False
) -> AsyncIterator[tuple[Lwm2mServer, Lwm2mServer, BootstrapServer]]:
    """Server A (NoSec, lifetime 200), server B (lifetime 400, binding UQ; DTLS-PSK when
    ``secure_second``) on other ports, and a Bootstrap-Server writing both accounts."""
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(
            await Lwm2mServer.start(clock=clock, request_timeout=5.0)
        )
        psk = key_lookup([SERVER_PSK]) if secure_second else None
        b = await stack.enter_async_context(
            await Lwm2mServer.start(clock=clock, request_timeout=5.0, psk=psk)
        )
        b_uri = b.secure_uri if secure_second else b.uri
        assert b_uri is not None
        specs = [
            ServerAccountSpec(a.uri, short_server_id=11, lifetime=200),
            ServerAccountSpec(
                b_uri,
                short_server_id=22,
                lifetime=400,
                binding="UQ",
                security=SecurityMode.PRE_SHARED_KEY if secure_second else SecurityMode.NO_SEC,
                psk=SERVER_PSK if secure_second else None,
            ),
        ]
        bootstrap = await BootstrapServer.start(single(specs), clock=clock, request_timeout=5.0)
        stack.push_async_callback(bootstrap.stop)
        yield a, b, bootstrap


def counted(devices: list[Device], kind: type[object], wanted: int) -> asyncio.Future[None]:
    """A future set once the devices emitted ``wanted`` events of ``kind``."""
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    seen = [0]

    def hear(event: object) -> None:
        if isinstance(event, kind):
            seen[0] += 1
            if seen[0] >= wanted and not future.done():
                future.set_result(None)

    for device in devices:
        device.add_listener(hear)
    return future


async def test_every_device_registers_at_both_servers_with_the_written_lifetimes() -> None:
    clock = ManualClock()
    async with two_servers(clock) as (a, b, bootstrap):
        log = Log()
        devices = [
            log.watch(Device(DeviceConfig(f"two-{i}", bootstrap=bootstrap.uri), clock=clock))
            for i in range(4)
        ]
        everywhere = counted(devices, Registered, 2 * len(devices))
        await asyncio.gather(*(d.start() for d in devices))
        try:
            await asyncio.wait_for(everywhere, WAIT)
            for device in devices:
                at_a = await a.wait_for_registration(device.name, WAIT)
                at_b = await b.wait_for_registration(device.name, WAIT)
                assert (at_a.lifetime, at_a.binding, at_a.queue_mode) == (200, "U", False)
                assert (at_b.lifetime, at_b.queue_mode) == (400, True)
                assert at_a.address != at_b.address  # one socket per server
                assert device.account is not None and device.account.short_server_id == 11
                (link,) = device.links
                assert link.account.short_server_id == 22 and link.account.uri == b.uri
            assert bootstrap.counters["finished"] == len(devices)
            # the event log counts one Register per server account
            assert len(log.of(Registered)) == 2 * len(devices)
            # requests are per server: B reads through its own registration
            result = await b.read("two-0", "/3/0/0")
            assert result.code == "2.05"
            # Updates follow each Server instance's own lifetime (93 s margin)
            a_updated = a.expect(EventKind.UPDATE, endpoint="two-0")
            await clock.advance(108)
            await asyncio.wait_for(a_updated, WAIT)
            assert [e for e in b.recent_events if e.kind is EventKind.UPDATE] == []
            b_updated = b.expect(EventKind.UPDATE, endpoint="two-0")
            await clock.advance(200)
            await asyncio.wait_for(b_updated, WAIT)
            assert len(log.of(Updated, "two-0")) >= 2
        finally:
            await asyncio.gather(*(d.stop() for d in devices))
        # De-register reached both servers
        assert a.registrations() == [] and b.registrations() == []
        assert len(log.of(Deregistered)) == 2 * len(devices)
        assert all(e.answered for e in log.of(Deregistered))


async def test_a_reboot_registers_at_both_again_without_bootstrapping() -> None:
    async with two_servers() as (a, b, bootstrap):
        device = Device(DeviceConfig("reboot-two", bootstrap=bootstrap.uri))
        await device.start()
        try:
            await a.wait_for_registration("reboot-two", WAIT)
            await b.wait_for_registration("reboot-two", WAIT)
            gone = b.expect(EventKind.DEREGISTRATION, endpoint="reboot-two")
            again = b.expect(EventKind.REGISTRATION, endpoint="reboot-two")
            await device.reboot(0)
            await asyncio.wait_for(gone, WAIT)
            await asyncio.wait_for(again, WAIT)
            await asyncio.wait_for(device.registered.wait(), WAIT)
            assert bootstrap.counters["requests"] == 1
            assert device.state is RegistrationState.REGISTERED
        finally:
            await device.stop()


@requires_dtls
async def test_each_account_is_reached_over_its_own_security_mode() -> None:
    async with two_servers(secure_second=True) as (a, b, bootstrap):
        device = Device(DeviceConfig("mixed", bootstrap=bootstrap.uri))
        await device.start()
        try:
            at_a = await a.wait_for_registration("mixed", WAIT)
            at_b = await b.wait_for_registration("mixed", WAIT)
            assert at_a.lifetime == 200 and at_b.lifetime == 400
            assert a.psk_identity("mixed") is None  # NoSec at A
            assert b.psk_identity("mixed") == b"mixed"  # the written PSK at B
            (link,) = device.links
            assert link.account.mode is SecurityMode.PRE_SHARED_KEY
        finally:
            await device.stop()
        assert b.registrations() == []
