"""A registration is bound to its security context (:mod:`fleet.server.binding`), over real UDP.

A plain-CoAP stranger that knows (or guesses) the location of a ``coaps://`` registration can
neither Update it (which used to move the device's address to the stranger, who then got the
device's READs in the clear), nor De-register it, nor take the name over with a Register; nor
can a DTLS peer with another identity. A NoSec Update from a new address is accepted (NAT
rebinding) but logged and counted.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from aiocoap import Message
from aiocoap.numbers.codes import Code

from fleet.client.coap.dtls import dtls_available
from fleet.client.config import DeviceConfig
from fleet.client.credentials import PatternCredentials, key_lookup
from fleet.client.device import Device
from fleet.client.transport import open_endpoint
from fleet.clock import ManualClock
from fleet.server import Lwm2mServer
from fleet.server.binding import NOSEC, Peer, Verdict, judge, may_register, may_send
from tests.server.conftest import DeviceFactory
from tests.server.fakes import FakeDevice

pytestmark = pytest.mark.asyncio
WAIT = 5.0
REASON = dtls_available()
needs_dtls = pytest.mark.skipif(REASON is not None, reason=REASON or "")
KEYS = PatternCredentials("sim-{index:06d}", "hex:00112233{index:024x}")
HERE, THERE = ("127.0.0.1", 1000), ("127.0.0.1", 2000)
ALICE, BOB = Peer("psk", b"alice"), Peer("psk", b"bob")


@pytest.mark.parametrize(
    ("bound", "context", "source", "verdict"),
    [
        (NOSEC, NOSEC, HERE, Verdict.ACCEPT),
        (NOSEC, NOSEC, THERE, Verdict.REBOUND),
        (ALICE, ALICE, HERE, Verdict.ACCEPT),
        (ALICE, ALICE, THERE, Verdict.REBOUND),
        (ALICE, NOSEC, HERE, Verdict.REFUSE),
        (ALICE, BOB, HERE, Verdict.REFUSE),
        (NOSEC, ALICE, HERE, Verdict.REFUSE),
    ],
)
async def test_judge(bound: Any, context: Any, source: Any, verdict: Verdict) -> None:
    assert judge(bound, HERE, context, source) is verdict


async def test_register_and_send_rules() -> None:
    assert may_register(NOSEC, NOSEC) and may_register(NOSEC, ALICE)
    assert may_register(ALICE, ALICE)
    assert not may_register(ALICE, NOSEC) and not may_register(ALICE, BOB)
    assert may_send(NOSEC, NOSEC) and may_send(NOSEC, ALICE) and may_send(ALICE, ALICE)
    assert not may_send(ALICE, NOSEC) and not may_send(ALICE, BOB)


async def test_a_nosec_update_from_a_new_address_is_accepted_logged_and_counted(
    server: Lwm2mServer, make_device: DeviceFactory, caplog: pytest.LogCaptureFixture
) -> None:
    device = await make_device("dev1")
    moved = await FakeDevice.start(server.address, "dev1")
    try:
        moved.location = device.location
        with caplog.at_level(logging.WARNING, logger="fleet.server"):
            assert (await moved.update()).code == Code.CHANGED
        registration = server.registration("dev1")
        assert registration is not None and registration.address == moved.address
        assert server.counters.rebinds == 1 and server.stats()["rebinds"] == 1
        assert any("new address" in r.getMessage() for r in caplog.records)
        assert (await moved.update()).code == Code.CHANGED  # same address now: no rebind
        assert server.counters.rebinds == 1
    finally:
        moved.close()


async def _secure_device(server: Lwm2mServer, clock: ManualClock, index: int) -> Device:
    name = f"sim-{index:06d}"
    config = DeviceConfig(name, server=server.secure_uri or "", psk=KEYS.credentials(index, ""))
    device = Device(config, clock=clock)
    await device.start()
    await asyncio.wait_for(device.registered.wait(), WAIT)
    await server.wait_for_registration(name, timeout=WAIT)
    return device


@needs_dtls
async def test_a_plain_stranger_cannot_touch_a_dtls_registration() -> None:
    clock = ManualClock()
    async with await Lwm2mServer.start(
        clock=clock, psk=key_lookup([KEYS]), request_timeout=5.0
    ) as server:
        device = await _secure_device(server, clock, 1)
        stranger = await FakeDevice.start(server.address, "sim-000001")
        try:
            before = server.registration("sim-000001")
            assert before is not None and before.security == Peer("psk", b"sim-000001")
            stranger.location = before.location_path  # the strongest stranger knows it
            assert (await stranger.update()).code == Code.BAD_REQUEST
            assert (await stranger.deregister()).code == Code.BAD_REQUEST
            assert (await stranger.register()).code == Code.FORBIDDEN
            after = server.registration("sim-000001")
            assert after == before  # untouched: same address, same location, same lifetime
            assert server.counters.refused_context == 3 and server.counters.rebinds == 0
            device.tree.set_value("/3/0/2", "secret serial")
            result = await server.read("sim-000001", "/3/0/2")
            assert result.value == "secret serial"  # still over the device's DTLS session
            assert stranger.seen == []  # the stranger received nothing
        finally:
            stranger.close()
            await asyncio.wait_for(device.stop(), WAIT)
        assert server.registration("sim-000001") is None  # its own De-register still works


@needs_dtls
async def test_another_identity_cannot_update_a_dtls_registration_but_the_same_one_can() -> None:
    clock = ManualClock()
    async with await Lwm2mServer.start(
        clock=clock, psk=key_lookup([KEYS]), request_timeout=5.0
    ) as server:
        device = await _secure_device(server, clock, 1)
        registration = server.registration("sim-000001")
        assert registration is not None
        update = Message(code=Code.POST, uri_path=registration.location_path)
        opened = []
        try:
            for index, name in ((2, "sim-000002"), (1, "sim-000001")):
                config = DeviceConfig(
                    name, server=server.secure_uri or "", psk=KEYS.credentials(index, "")
                )
                endpoint = await asyncio.wait_for(
                    open_endpoint(
                        config,
                        handler=None,
                        clock=clock,
                        rng=None,
                        on_cancel=lambda *_: None,
                        emit=lambda _: None,
                    ),
                    WAIT,
                )
                opened.append(endpoint)
                secure = server.secure_address
                assert secure is not None
                response = await asyncio.wait_for(endpoint.request(update, secure), WAIT)
                expected = Code.BAD_REQUEST if index == 2 else Code.CHANGED
                assert response.code == expected, name
            moved = server.registration("sim-000001")
            assert moved is not None and moved.address != registration.address
            assert server.counters.refused_context == 1 and server.counters.rebinds == 1
        finally:
            for endpoint in opened:
                endpoint.close()
            await asyncio.wait_for(device.stop(deregister=False), WAIT)
