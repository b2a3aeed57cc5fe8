"""While it bootstraps, a device answers only its Bootstrap-Server (issue 21).

A Bootstrap-Write reaches what no LwM2M Server may — the Security object with the keys of
every server account — so a stranger on the network that could send one while the device
waits for Bootstrap-Finish could point the device at its own server. The device's socket
hears only the Bootstrap-Server's address then (``foreign`` counts the rest), and once it
is registered only its LwM2M Server and its Bootstrap-Server (server-initiated bootstrap).
Over real UDP, from a bare socket: no answer, nothing written; the Bootstrap-Server's own
operations still work.
"""

from __future__ import annotations

import asyncio

import pytest

from fleet.client.coap.wire import CON, Message, encode
from fleet.codec import ContentFormat
from fleet.model.nodes import SingleResource
from fleet.model.path import Path
from fleet.server.bootstrap.plan import Step
from fleet.server.events import EventKind
from tests.client.fakes import GET, POST, PUT, raw_replies

from .helpers import device_address, waiting_device

pytestmark = pytest.mark.asyncio
SILENCE = 0.5
"""Seconds a stranger waits for an answer that must not come."""


def _datagram(method: int, path: tuple[str, ...], payload: bytes = b"", mid: int = 7000) -> bytes:
    options = Message(code=method, uri_path=path).opt
    if payload:
        options.content_format = 0
    return encode(CON, method, mid, mid.to_bytes(2, "big"), options, payload)


async def test_a_stranger_cannot_bootstrap_a_waiting_device() -> None:
    async with waiting_device(False, "bs-stranger") as (pair, device, _):
        address = device_address(device)
        lifetime = device.tree.stored(1, 0, 1)
        hostile = [
            _datagram(PUT, ("1", "0", "1"), b"5", 7001),  # a Bootstrap-Write of the lifetime
            _datagram(PUT, ("0", "9", "0"), b"coap://203.0.113.9", 7002),  # a new account
            _datagram(GET, (), b"", 7003),  # Bootstrap-Discover
            _datagram(POST, ("bs",), b"", 7004),  # Bootstrap-Finish
        ]
        for datagram in hostile:
            with pytest.raises(TimeoutError):
                await raw_replies(address, datagram, 1, timeout=SILENCE)
        endpoint = device.endpoint
        assert endpoint is not None and endpoint.stats().foreign >= len(hostile)
        assert device.tree.stored(1, 0, 1) == lifetime and 9 not in device.tree.instances(0)
        assert not device.is_registered  # no Finish was taken from the stranger
        # the Bootstrap-Server is heard as before
        step = Step(Path(1, 0, 1), SingleResource(1, 777), ContentFormat.TLV)
        assert (await pair.bootstrap.write("bs-stranger", address, step))[0] == "2.04"
        registered = pair.server.expect(EventKind.REGISTRATION, endpoint="bs-stranger")
        assert (await pair.bootstrap.finish("bs-stranger", address))[0] == "2.04"
        event = await asyncio.wait_for(registered, 10)
        assert event.registration is not None and event.registration.lifetime == 777


async def test_a_registered_device_hears_its_server_and_bootstrap_server_only() -> None:
    async with waiting_device(False, "bs-after") as (pair, device, _):
        address = device_address(device)
        registered = pair.server.expect(EventKind.REGISTRATION, endpoint="bs-after")
        assert (await pair.bootstrap.finish("bs-after", address))[0] == "2.04"
        await asyncio.wait_for(registered, 10)
        await asyncio.wait_for(device.registered.wait(), 10)
        now = device_address(device)
        with pytest.raises(TimeoutError):
            await raw_replies(now, _datagram(GET, ("3", "0", "0"), b"", 7010), 1, timeout=SILENCE)
        assert (await pair.server.read("bs-after", "/3/0/0")).code == "2.05"
        # the Bootstrap-Server may still reach it (server-initiated bootstrap, Core 5.2.3)
        code, _ = await pair.bootstrap.discover("bs-after", now)
        assert code == "2.05"
