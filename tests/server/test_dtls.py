"""The embedded server over DTLS-PSK with real devices: one server serving coap:// and coaps://
at once, requests going back over the session each device opened, the Security object kept
from the server, and every way a handshake fails reported as a Handshake event and an error.

Protocol time is a ManualClock; waiting for loopback traffic is bounded in real seconds.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from fleet.client.coap.dtls import DtlsHandshakeError, dtls_available
from fleet.client.coap.psk import PskCredentials
from fleet.client.config import DeviceConfig
from fleet.client.credentials import PatternCredentials, SingleCredentials, key_lookup
from fleet.client.device import Device
from fleet.client.events import ClientEvent, Handshake
from fleet.client.transport import open_endpoint
from fleet.clock import ManualClock
from fleet.model import Path
from fleet.server import EventKind, InsecureRoute, Lwm2mServer

REASON = dtls_available()
pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.skipif(REASON is not None, reason=REASON or ""),
]

WAIT = 5.0
KEYS = PatternCredentials("sim-{index:06d}", "hex:00112233{index:024x}")


async def within(awaitable: Any, seconds: float = WAIT) -> Any:
    return await asyncio.wait_for(awaitable, seconds)


class Lookups:
    """The server's key lookup over :data:`KEYS`; resolves a future per identity asked."""

    def __init__(self) -> None:
        self.asked: dict[bytes, asyncio.Future[None]] = {}
        self._lookup = key_lookup([KEYS])

    def asked_for(self, identity: bytes) -> asyncio.Future[None]:
        return self.asked.setdefault(identity, asyncio.get_running_loop().create_future())

    def __call__(self, identity: bytes) -> bytes | None:
        future = self.asked_for(identity)
        if not future.done():
            future.set_result(None)
        return self._lookup(identity)


@pytest_asyncio.fixture
async def clock() -> ManualClock:
    return ManualClock()


@pytest_asyncio.fixture
async def lookups() -> Lookups:
    return Lookups()


@pytest_asyncio.fixture
async def server(clock: ManualClock, lookups: Lookups) -> AsyncIterator[Lwm2mServer]:
    async with await Lwm2mServer.start(
        clock=clock, read_on_register=("/3",), psk=lookups
    ) as started:
        yield started


def recorder(device: Device) -> list[ClientEvent]:
    events: list[ClientEvent] = []
    device.add_listener(events.append)
    return events


async def registered(server: Lwm2mServer, device: Device) -> None:
    await device.start()
    await within(device.registered.wait())
    await server.wait_for_registration(device.name, timeout=WAIT, hooks=True)


async def test_plain_and_dtls_devices_on_one_server(
    server: Lwm2mServer, clock: ManualClock
) -> None:
    assert server.secure_uri is not None and server.secure_uri.startswith("coaps://127.0.0.1:")
    assert server.secure_address != server.address
    secure = Device(
        DeviceConfig("sim-000001", server=server.secure_uri, psk=KEYS.credentials(1, "")),
        clock=clock,
    )
    plain = Device(DeviceConfig("plain-1", server=server.uri), clock=clock)
    events = recorder(secure)
    try:
        await registered(server, secure)
        await registered(server, plain)
        handshakes = [event for event in events if isinstance(event, Handshake)]
        assert len(handshakes) == 1 and handshakes[0].ok
        assert handshakes[0].remote == server.secure_address
        assert server.psk_identity("sim-000001") == b"sim-000001"
        assert server.psk_identity("plain-1") is None
        # the server's own requests reach each device over the way it came in
        for name, device in (("sim-000001", secure), ("plain-1", plain)):
            result = await within(server.write(name, "/3442/0/110", f"hello {name}"))
            assert result.code == "2.04"
            assert device.tree.value("/3442/0/110") == f"hello {name}"
            assert (await within(server.execute(name, "/3442/0/3", "0='first'"))).code == "2.04"
        # Send (the device's own request) over the session too
        assert (await within(server.write("sim-000001", "/3442/0/6", ["/3442/0/110"]))).code == (
            "2.04"
        )
        sent = server.expect(EventKind.SEND, endpoint="sim-000001")
        assert (await within(server.execute("sim-000001", "/3442/0/5"))).code == "2.04"
        assert dict((await within(sent)).values) == {Path(3442, 0, 110): "hello sim-000001"}
        handle = await within(server.observe("sim-000001", "/3442/0/120", pmin=0, pmax=60))
        assert handle.result is not None and handle.result.code == "2.05"
        secure.tree.set_value("/3442/0/120", 77)
        note = await handle.next(WAIT)
        assert note.value == 77
        stats = server.stats()["dtls"]
        assert stats.sessions == 1 and stats.handshakes == 1 and stats.dropped == 0
    finally:
        await within(secure.stop())
        await within(plain.stop())


async def test_the_security_object_and_its_key_stay_on_the_device(
    server: Lwm2mServer, clock: ManualClock
) -> None:
    psk = KEYS.credentials(2, "")
    device = Device(
        DeviceConfig("sim-000002", server=server.secure_uri or "", psk=psk), clock=clock
    )
    try:
        await registered(server, device)
        for path in ("/0", "/0/0", "/0/0/5", "/0/0/3"):
            assert (await within(server.read("sim-000002", path))).code == "4.01", path
        result = await within(server.write("sim-000002", "/0/0/5", b"\x00"))
        assert result.code == "4.01"
        assert device.tree.value("/0/0/5") == psk.key
        record = server.device("sim-000002")
        assert record is not None and "/0" not in repr(record.objects)
    finally:
        await within(device.stop())


async def test_a_wrong_key_fails_the_handshake_on_the_device_clock(
    server: Lwm2mServer, clock: ManualClock, lookups: Lookups
) -> None:
    wrong = PskCredentials(b"sim-000003", b"not the right key")
    config = DeviceConfig(
        "sim-000003", server=server.secure_uri or "", psk=wrong, handshake_timeout=7.0
    )
    events: list[ClientEvent] = []
    attempt = asyncio.ensure_future(
        open_endpoint(
            config,
            config.server_address,
            handler=None,
            clock=clock,
            rng=None,
            on_cancel=lambda *_: None,
            emit=events.append,
        )
    )
    await within(lookups.asked_for(b"sim-000003"))  # the server took the identity: keys differ
    await clock.advance(6.9)
    assert not attempt.done()
    await clock.advance(0.1)
    with pytest.raises(DtlsHandshakeError, match="handshake timeout after 7 s, no alert") as caught:
        await within(attempt)
    assert "the server answered the hello but not our Finished: wrong key" in str(caught.value)
    assert caught.value.cause == "handshake timeout"
    (event,) = events
    assert isinstance(event, Handshake) and not event.ok
    assert event.error == str(caught.value) and event.duration == pytest.approx(7.0)
    assert event.remote == server.secure_address and event.endpoint == "sim-000003"
    assert "not the right key" not in event.error and wrong.key.hex() not in event.error
    assert clock.pending() == 0
    assert server.registration("sim-000003") is None


async def test_an_unknown_identity_is_refused_at_once(server: Lwm2mServer) -> None:
    clock = ManualClock()  # never advanced: only the server's alert can end the attempt
    stranger = DeviceConfig(
        "stranger", server=server.secure_uri or "", psk=PskCredentials(b"stranger", b"k")
    )
    events: list[ClientEvent] = []
    with pytest.raises(DtlsHandshakeError, match=r"DTLS alert 80 \(internal_error\) received"):
        await within(
            open_endpoint(
                stranger,
                stranger.server_address,
                handler=None,
                clock=clock,
                rng=None,
                on_cancel=lambda *_: None,
                emit=events.append,
            )
        )
    assert len(events) == 1 and isinstance(events[0], Handshake) and events[0].error
    assert events[0].cause == "DTLS alert 80 (internal_error) received"  # tinydtls's word for it


async def test_a_device_whose_handshake_fails_reports_it_and_does_not_raise_out_of_the_fleet(
    server: Lwm2mServer, clock: ManualClock
) -> None:
    """Device-level: start() does not raise; the failure is a Handshake event with the error
    (retrying with back-off is the device's business) and nothing registers."""
    device = Device(
        DeviceConfig(
            "sim-000004",
            server=server.secure_uri or "",
            psk=PskCredentials(b"not-a-known-identity", b"k"),
        ),
        clock=clock,
    )
    failed: asyncio.Future[Handshake] = asyncio.get_running_loop().create_future()

    def listen(event: ClientEvent) -> None:
        if isinstance(event, Handshake) and not failed.done():
            failed.set_result(event)

    device.add_listener(listen)
    await within(device.start())
    event = await within(failed)
    assert not event.ok and "DTLS alert 80 (internal_error) received" in (event.error or "")
    assert server.registration("sim-000004") is None
    await within(device.stop(deregister=False))


async def test_the_server_ending_the_session_tells_the_device(
    server: Lwm2mServer, clock: ManualClock
) -> None:
    lost: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    config = DeviceConfig("sim-000005", server=server.secure_uri or "", psk=KEYS.credentials(5, ""))
    endpoint = await within(
        open_endpoint(
            config,
            config.server_address,
            handler=None,
            clock=clock,
            rng=None,
            on_cancel=lambda *_: None,
            on_lost=lambda reason: lost.done() or lost.set_result(reason),
        )
    )
    try:
        await server.stop()  # close_notify to every session
        assert "close_notify" in await within(lost)
    finally:
        endpoint.close()


async def test_nothing_goes_out_in_the_clear_to_a_dtls_peer_without_a_session() -> None:
    """A server request to a DTLS device whose session is gone is refused before anything is
    sent (the registration is bound to its DTLS identity), never sent plain."""
    single = SingleCredentials.of("lab", "hex:0102030405060708")
    async with await Lwm2mServer.start(psk=key_lookup([single]), request_timeout=0.5) as server:
        device = Device(DeviceConfig("lab-1", server=server.secure_uri or "", psk=single.psk))
        try:
            await registered(server, device)
            registration = server.registration("lab-1")
            assert registration is not None
            dual = server._dual
            assert dual is not None and dual.is_secure(registration.address)
            assert dual.secure is not None
            for peer in list(dual.secure._peers.values()):
                dual.secure._drop(peer)  # the session ends on the server side only
            before = dual.secure.stats().dropped
            with pytest.raises(InsecureRoute, match="not sending in the clear"):
                await within(server.read("lab-1", "/3/0/0"))
            # refused before sending: nothing went out, neither plain nor to be dropped
            assert dual.secure.stats().dropped == before
            assert server.stats()["coap"].exchanges == 0
            assert server.counters.requests["read"] == 0
        finally:
            await within(device.stop(deregister=False))


# uvloop's create_datagram_endpoint leaks its own transport when the bind fails (reported at
# garbage collection); asyncio's does not, and the asyncio run of this test checks ours
@pytest.mark.filterwarnings(
    "ignore:Exception ignored in. 'uvloop.loop.UVHandle.__dealloc__'"
    ":pytest.PytestUnraisableExceptionWarning"
)
async def test_a_dtls_port_in_use_is_a_bind_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        with pytest.raises(OSError, match=f"port {port} .DTLS."):
            await Lwm2mServer.start(psk=lambda identity: None, dtls_port=port)


async def ping_from(address: tuple[str, int], server: Lwm2mServer) -> bytes:
    """Send a CoAP ping to the server's plain port from ``address``; the first reply."""
    loop = asyncio.get_running_loop()
    reply: asyncio.Future[bytes] = loop.create_future()

    class Receiver(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
            if not reply.done():
                reply.set_result(data)

    for _ in range(10):  # a socket just closed is released on the next loop turn
        try:
            transport, _ = await loop.create_datagram_endpoint(Receiver, local_addr=address)
            break
        except OSError:
            await asyncio.sleep(0)  # one turn of the loop, no waiting time
    else:
        raise AssertionError(f"{address} stays taken")
    try:
        transport.sendto(bytes([0x40, 0x00, 0x12, 0x34]), server.address)  # CON, empty
        return await within(reply)
    finally:
        transport.close()


RESET = bytes([0x70, 0x00, 0x12, 0x34])
"""The server's answer to that ping: a Reset with the same message id."""


async def test_an_ended_session_is_forgotten_and_its_address_answered_in_the_clear(
    server: Lwm2mServer, clock: ManualClock
) -> None:
    """close_notify, eviction: the address stops counting as a DTLS peer at once, so a plain
    device that gets the same source port later is answered (not over a dead session)."""
    dual = server._dual
    assert dual is not None and dual.secure is not None
    gone: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
    forget = dual.secure.on_gone  # the server's own (forgets the address)

    def on_gone(address: tuple[str, int]) -> None:
        if forget is not None:
            forget(address)
        gone.put_nowait(address)

    dual.secure.on_gone = on_gone
    addresses = []
    for index in (8, 9):
        device = Device(
            DeviceConfig(
                f"sim-{index:06d}", server=server.secure_uri or "", psk=KEYS.credentials(index, "")
            ),
            clock=clock,
        )
        await registered(server, device)
        registration = server.registration(device.name)
        assert registration is not None and dual.is_secure(registration.address)
        addresses.append((device, registration.address))
    (closing, first), (evicted, second) = addresses
    await within(closing.stop())  # De-register, then close_notify
    assert await within(gone.get()) == first
    assert not dual.is_secure(first) and dual.is_secure(second)
    assert await ping_from(first, server) == RESET  # a plain device on the old port
    dual.secure._drop(dual.secure._peers[second], evicted=True)
    assert gone.get_nowait() == second and not dual.is_secure(second)
    await within(evicted.stop(deregister=False))
    assert await ping_from(second, server) == RESET


async def test_plain_traffic_from_an_address_with_a_stale_session_is_answered_plain(
    server: Lwm2mServer, clock: ManualClock
) -> None:
    """A device that flapped leaves its session behind (no close_notify); a plain device
    that then gets its old port is answered in the clear, not over the stale session."""
    device = Device(
        DeviceConfig("sim-000010", server=server.secure_uri or "", psk=KEYS.credentials(10, "")),
        clock=clock,
    )
    await registered(server, device)
    try:
        registration = server.registration(device.name)
        assert registration is not None
        old = registration.address
        device.flap(600.0)  # away: its socket is closed, the server keeps the session
        stats = server.stats()["dtls"]
        assert stats.sessions == 1
        assert await ping_from(old, server) == RESET
        assert server.stats()["dtls"].sessions == 1  # the stale session is not touched
    finally:
        await within(device.stop(deregister=False))
