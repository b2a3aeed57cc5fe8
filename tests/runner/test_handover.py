"""The registrations a worker streams to the parent, and the parent's De-registers for them.

The parent keeps only what is registered now (a De-register removes the entry), sends a
De-register for each NoSec registration of a dead worker over real UDP, and says what it
could not end: ``coaps://`` registrations, De-registers nobody answered (given up after a
grace of the controllable clock), devices whose location never reached it.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from fleet.client.coap.dtls import dtls_available
from fleet.client.coap.psk import PskCredentials
from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.clock import LoopClock, ManualClock
from fleet.runner.devices import client_device
from fleet.runner.handover import Held, HeldRegistrations, Note, RegistrationStream, release
from fleet.server import Lwm2mServer

HOST = "127.0.0.1"


def test_only_what_is_registered_now_is_held() -> None:
    held = HeldRegistrations()
    held.apply(
        [
            ("a", "/rd/1a", HOST, 5683, False),
            ("b", "/rd/2b", HOST, 5684, True),
            ("a", None, "", 0, False),  # a de-registered
            ("c", "/rd/3c", HOST, 5683, False),
            ("c", "/rd/4d", HOST, 5683, False),  # c registered again (a reboot)
        ]
    )
    assert held.held == {
        "b": Held("/rd/2b", HOST, 5684, True),
        "c": Held("/rd/4d", HOST, 5683, False),
    }
    held.apply([("b", None, "", 0, False), ("c", None, "", 0, False)])
    assert len(held) == 0


def test_a_worker_sends_its_notes_in_batches() -> None:
    sent: list[tuple[object, ...]] = []
    stream = RegistrationStream(sent.append)
    stream.flush()
    assert sent == []  # nothing waits: nothing is sent
    for n in range(2048 + 3):
        stream._note((f"e{n}", f"/rd/{n}", HOST, 5683, False))
    assert [len(batch) for batch in sent] == [2048]  # a full batch goes at once
    stream.flush()
    assert [len(batch) for batch in sent] == [2048, 3]


@pytest.mark.asyncio
async def test_coaps_registrations_are_left_to_expire_and_said_so() -> None:
    held = HeldRegistrations()
    held.apply([("s1", "/rd/1", HOST, 5684, True), ("s2", "/rd/2", HOST, 5684, True)])
    released = await release(held, 3, clock=ManualClock())
    assert (released.deregistered, released.left, released.secure) == (0, 3, 2)
    assert released.describe() == (
        "de-registered by the parent 0, left to expire 3 (2 coaps:// (bound to DTLS sessions"
        " that died with the worker); 1 whose locations never reached the parent)"
    )
    assert len(held) == 0


@pytest.mark.asyncio
async def test_a_silent_server_is_given_up_after_the_grace() -> None:
    heard: asyncio.Queue[bytes] = asyncio.Queue()

    class Silent(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            heard.put_nowait(data)

    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(Silent, local_addr=(HOST, 0))
    port = transport.get_extra_info("sockname")[1]
    clock = ManualClock()
    held = HeldRegistrations()
    held.apply([("q1", "/rd/1", HOST, port, False), ("q2", "/rd/2", HOST, port, False)])
    try:
        releasing = asyncio.ensure_future(release(held, 2, clock=clock, concurrency=1, grace=10))
        first = await asyncio.wait_for(heard.get(), 5.0)
        assert first[1] == 4  # DELETE
        await clock.advance(9.0)
        assert not releasing.done()
        await clock.advance(1.5)
        released = await asyncio.wait_for(releasing, 5.0)
    finally:
        transport.close()
    assert (released.deregistered, released.left, released.given_up) == (0, 2, 2)
    assert released.describe() == "de-registered by the parent 0, left to expire 2 (2 not answered)"


@pytest.mark.asyncio
async def test_the_embedded_server_ends_a_nosec_registration_for_the_parent() -> None:
    async with await Lwm2mServer.start() as server:
        device = Device(DeviceConfig("orphan-1", server=server.uri))
        await device.start()
        await device.registered.wait()
        location = device.registrar.location_text
        held = HeldRegistrations()
        host, port = server.address
        held.apply(
            [
                ("orphan-1", location, host, port, False),
                ("orphan-2", "/rd/00000000", host, port, False),  # the server has no such one
            ]
        )
        try:
            released = await release(held, 2)
            assert server.registration("orphan-1") is None
        finally:
            await device.stop(deregister=False)
    assert (released.deregistered, released.left) == (2, 0)
    assert released.describe() == "de-registered by the parent 2, left to expire 0"


@pytest.mark.asyncio
@pytest.mark.skipif(dtls_available() is not None, reason=dtls_available() or "")
async def test_real_devices_are_noted_with_their_security_and_a_coaps_one_is_left() -> None:
    notes: list[tuple[Note, ...]] = []
    stream = RegistrationStream(notes.append)
    build = stream.factory(client_device)
    key = b"secret-key"
    async with await Lwm2mServer.start(psk=lambda identity: key) as server:
        assert server.secure_uri is not None
        plain = build(DeviceConfig("n-plain", server=server.uri), LoopClock(), random.Random(1))
        secure = build(
            DeviceConfig(
                "n-secure",
                server=server.secure_uri,
                psk=PskCredentials.of("n-secure", "hex:" + key.hex()),
            ),
            LoopClock(),
            random.Random(2),
        )
        gone = build(DeviceConfig("n-gone", server=server.uri), LoopClock(), random.Random(3))
        assert isinstance(plain, Device) and isinstance(secure, Device)
        assert isinstance(gone, Device)
        for device in (plain, secure, gone):
            await device.start()
            await asyncio.wait_for(device.registered.wait(), 10.0)
        await gone.stop()  # de-registers: its entry goes again
        stream.flush()
        (batch,) = notes
        assert [(note[0], note[1] is not None, note[4]) for note in batch] == [
            ("n-plain", True, False),
            ("n-secure", True, True),
            ("n-gone", True, False),
            ("n-gone", False, False),
        ]
        held = HeldRegistrations()
        held.apply(batch)
        assert sorted(held.held) == ["n-plain", "n-secure"]
        assert held.held["n-plain"].location == plain.registrar.location_text
        try:
            released = await release(held, 2)
            assert server.registration("n-plain") is None
            assert server.registration("n-secure") is not None  # its session died with it
        finally:
            for device in (plain, secure):
                await device.stop(deregister=False)
    assert released.describe() == (
        "de-registered by the parent 1, left to expire 1"
        " (1 coaps:// (bound to DTLS sessions that died with the worker))"
    )
