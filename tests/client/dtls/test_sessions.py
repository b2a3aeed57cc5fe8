"""How a real DTLS device ends and regains its session with the embedded server.

A flap or a lost session drops the session without close_notify (the server keeps the
stale one until it evicts it) and comes back with a new handshake and an Update; stop and
reboot end the session with close_notify; a session the server ends is noticed by the
device (``on_lost``), which handshakes again and sends an Update.

Protocol time is a ManualClock; waiting for loopback traffic is bounded in real seconds.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio

from fleet.client.away import Away
from fleet.client.coap.wire import Address
from fleet.client.config import DeviceConfig
from fleet.client.credentials import PatternCredentials, key_lookup
from fleet.client.device import Device
from fleet.client.events import ClientEvent, Handshake, Registered, Updated
from fleet.clock import ManualClock
from fleet.server import EventKind, Lwm2mServer
from fleet.server.secure import DualTransport

from .helpers import requires_dtls

pytestmark = [pytest.mark.asyncio, requires_dtls]

WAIT = 5.0
KEYS = PatternCredentials("sim-{index:06d}", "hex:00112233{index:024x}")


async def within(awaitable: Any, seconds: float = WAIT) -> Any:
    return await asyncio.wait_for(awaitable, seconds)


@pytest_asyncio.fixture
async def clock() -> ManualClock:
    return ManualClock()


@pytest_asyncio.fixture
async def server(clock: ManualClock) -> AsyncIterator[Lwm2mServer]:
    async with await Lwm2mServer.start(clock=clock, psk=key_lookup([KEYS]), dtls_port=0) as started:
        yield started


def dual_of(server: Lwm2mServer) -> DualTransport:
    dual = server._dual
    assert dual is not None and dual.secure is not None
    return dual


def sessions_ending(dual: DualTransport) -> asyncio.Queue[Address]:
    """The addresses of the server's DTLS sessions as they end (its ``on_gone``, wrapped)."""
    ended: asyncio.Queue[Address] = asyncio.Queue()
    secure = dual.secure
    assert secure is not None
    original = secure.on_gone

    def gone(address: Address) -> None:
        if original is not None:
            original(address)
        ended.put_nowait(address)

    secure.on_gone = gone
    return ended


async def registered_device(
    server: Lwm2mServer, clock: ManualClock, index: int
) -> tuple[Device, list[ClientEvent], Address]:
    name = f"sim-{index:06d}"
    config = DeviceConfig(name, server=server.secure_uri or "", psk=KEYS.credentials(index, ""))
    device = Device(config, clock=clock)
    events: list[ClientEvent] = []
    device.add_listener(events.append)
    await device.start()
    await within(device.registered.wait())
    registration = await server.wait_for_registration(name, timeout=WAIT)
    return device, events, registration.address


def handshakes(events: list[ClientEvent]) -> list[Handshake]:
    return [event for event in events if isinstance(event, Handshake)]


@pytest.mark.parametrize(
    ("leave", "away"),
    [
        (lambda device: device.flap(30.0), 30.0),
        (lambda device: device.lose_session(), 0.0),
    ],
    ids=["flap", "lose-session"],
)
async def test_a_flap_or_lost_session_leaves_the_old_session_on_the_server(
    server: Lwm2mServer,
    clock: ManualClock,
    leave: Callable[[Device], None],
    away: float,
) -> None:
    dual = dual_of(server)
    ended = sessions_ending(dual)
    device, events, first = await registered_device(server, clock, 1)
    location = server.registration(device.name).location  # type: ignore[union-attr]
    try:
        update = server.expect(EventKind.UPDATE, endpoint=device.name)
        leave(device)
        await clock.advance(away)
        seen = await within(update)
        assert seen.registration is not None and seen.registration.location == location
        second = seen.registration.address
        assert second != first  # a new socket, so a new source port
        assert [h.ok for h in handshakes(events)] == [True, True]
        assert sum(isinstance(event, Registered) for event in events) == 1  # no new Register
        # no close_notify: the server still holds the old session next to the new one
        stats = dual.dtls_stats()
        assert stats is not None and (stats.sessions, stats.handshakes) == (2, 2)
        assert ended.empty() and dual.is_secure(first) and dual.is_secure(second)
        # ...until it evicts it
        secure = dual.secure
        assert secure is not None
        secure._drop(secure._peers[first], evicted=True)
        assert ended.get_nowait() == first
        stats = dual.dtls_stats()
        assert stats is not None and (stats.sessions, stats.evicted) == (1, 1)
        assert not dual.is_secure(first) and dual.is_secure(second)
        # the device goes on over its new session
        assert (await within(server.read(device.name, "/3/0/0"))).code == "2.05"
    finally:
        await within(device.stop())
    assert await within(ended.get()) == second  # stop ends the session with close_notify


async def test_a_reboot_ends_the_session_with_close_notify(
    server: Lwm2mServer, clock: ManualClock
) -> None:
    dual = dual_of(server)
    ended = sessions_ending(dual)
    device, events, first = await registered_device(server, clock, 2)
    try:
        await within(device.reboot(60.0))
        assert await within(ended.get()) == first
        stats = dual.dtls_stats()
        assert stats is not None and stats.sessions == 0
        register = server.expect(EventKind.REGISTRATION, endpoint=device.name)
        await clock.advance(60.0)
        seen = await within(register)
        assert seen.registration is not None and seen.registration.address != first
        assert [h.ok for h in handshakes(events)] == [True, True]
    finally:
        await within(device.stop())


async def test_a_device_whose_session_the_server_ends_handshakes_again_and_updates(
    server: Lwm2mServer, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    lost: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    real = Away.lose_session

    def lose_session(away: Away, reason: str) -> None:
        if not lost.done():
            lost.set_result(reason)
        real(away, reason)

    monkeypatch.setattr(Away, "lose_session", lose_session)
    dual = dual_of(server)
    device, events, first = await registered_device(server, clock, 3)
    location = server.registration(device.name).location  # type: ignore[union-attr]
    try:
        secure = dual.secure
        assert secure is not None
        update = server.expect(EventKind.UPDATE, endpoint=device.name)
        updated: asyncio.Future[Updated] = asyncio.get_running_loop().create_future()
        device.add_listener(
            lambda event: (
                isinstance(event, Updated) and not updated.done() and updated.set_result(event)
            )
        )
        secure._drop(secure._peers[first])  # the server ends the session: close_notify
        assert "close_notify" in await within(lost)
        await clock.advance(0)  # the lost session is a flap with no away time
        seen = await within(update)
        assert seen.registration is not None and seen.registration.location == location
        assert seen.registration.address != first
        assert [h.ok for h in handshakes(events)] == [True, True]
        assert (await within(updated)).location == f"/rd/{location}"
        stats = dual.dtls_stats()
        assert stats is not None and (stats.sessions, stats.handshakes) == (1, 2)
        assert dual.is_secure(seen.registration.address) and not dual.is_secure(first)
        assert (await within(server.read(device.name, "/3/0/0"))).code == "2.05"
    finally:
        await within(device.stop())
