"""Many devices on one server: registrations and requests stay correct and leave nothing behind."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from fleet.model import Path
from fleet.server import Lwm2mServer
from tests.server.fakes import FakeDevice

pytestmark = pytest.mark.asyncio
DEVICES = 1000
BATCH = 100


@pytest.mark.slow
async def test_a_thousand_devices_register_and_answer() -> None:
    async with await Lwm2mServer.start(request_timeout=10.0) as server:
        values = {Path(3, 0, 0): "ACME", Path(3303, 0, 5700): 20.0}
        devices = [
            await FakeDevice.start(server.address, f"dev{i:04d}", values=dict(values))
            for i in range(DEVICES)
        ]
        try:
            started = time.perf_counter()
            for first in range(0, DEVICES, BATCH):
                batch = devices[first : first + BATCH]
                answers = await asyncio.gather(*(d.register() for d in batch))
                assert all(a.code.dotted == "2.01" for a in answers)
            registered = time.perf_counter() - started
            assert len(server.registrations()) == DEVICES
            assert len({r.location for r in server.registrations()}) == DEVICES
            for first in range(0, DEVICES, BATCH):
                names = [d.name for d in devices[first : first + BATCH]]
                results = await asyncio.gather(*(server.read(n, "/3303/0/5700") for n in names))
                assert [r.value for r in results] == [20.0] * len(names)
            read = time.perf_counter() - started - registered
            stats = server.stats()
            assert stats["requests.read"] == DEVICES and stats["coap"].exchanges == 0
            assert stats["coap"].timeouts == 0 and stats["coap"].dedup_evicted == 0
            print(f"\n{DEVICES} registrations in {registered:.2f} s, reads in {read:.2f} s")
        finally:
            for device in devices:
                device.close()


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")
async def test_ipv6_loopback() -> None:
    async with await Lwm2mServer.start("::1") as server:
        assert server.uri.startswith("coap://[::1]:")
        device = await FakeDevice.start(server.address, "six", host="::1")
        try:
            assert (await device.register()).code.dotted == "2.01"
            await server.wait_for_registration("six", 5.0)
            assert (await server.read("six", "/3/0/0")).value == "My Demo Device"
        finally:
            device.close()
