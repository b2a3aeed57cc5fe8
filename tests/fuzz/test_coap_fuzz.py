"""Fuzzing the device and the server with hostile CoAP datagrams, over real UDP on loopback.

A seeded generator (:mod:`tests.fuzz.datagrams`) sends random bytes and mutated valid
requests; afterwards the peer must still answer a valid request correctly, must never have
failed inside a handler (a 5.00 from a bug), and its memory must be flat: what a second
batch allocates beyond the first is bounded (tracemalloc, not timing). The budget is fixed
(``FLEET_FUZZ_DATAGRAMS`` per batch, default 1,500) so CI time is known; raise it locally for
a longer hunt, and ``FLEET_FUZZ_SEED`` replays another sequence.
"""

from __future__ import annotations

import asyncio
import gc
import os
import tracemalloc
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from fleet.client.site import Verdict
from fleet.clock import ManualClock
from fleet.server import Lwm2mServer
from tests.client.fakes import GET, POST, FakeServer, code, registered_device
from tests.server.fakes import FakeDevice

from .datagrams import datagrams

pytestmark = pytest.mark.asyncio
BATCH = int(os.environ.get("FLEET_FUZZ_DATAGRAMS", "1500"))
SEED = int(os.environ.get("FLEET_FUZZ_SEED", "21"))
GROWTH = 512 * 1024
"""Bytes a second batch may allocate beyond the first (bounded tables filling up)."""


async def _fuzz(send: Callable[[bytes], None], alive: Callable[[], Awaitable[None]]) -> int:
    """Two batches, a liveness check after every 100 datagrams; bytes the second one grew."""
    tracemalloc.start()
    try:
        marks = []
        for batch in range(2):
            for number, datagram in enumerate(datagrams(SEED + batch, BATCH)):
                send(datagram)
                if number % 100 == 99:
                    await alive()
            await alive()
            gc.collect()
            marks.append(tracemalloc.get_traced_memory()[0])
        return marks[1] - marks[0]
    finally:
        tracemalloc.stop()


def keep_registered(request: Any, operation: Any, path: Any) -> Verdict | None:
    """Executes of the Server and Device objects (Disable, Registration Update Trigger,
    Reboot, Factory Reset) are real commands that take the device away on purpose: the fuzz
    gets 4.05 for them so that it keeps hitting a registered device."""
    if int(request.code) == POST and path is not None and len(path) == 3 and path[0] in (1, 3):
        return Verdict.answer("4.05")
    return None


async def test_a_device_survives_hostile_datagrams_with_flat_memory(server: FakeServer) -> None:
    async with registered_device(server, "fuzzed") as device:
        device.add_interceptor(keep_registered)
        transport = server.endpoint._transport
        assert transport is not None and device.address is not None
        target = device.address

        async def alive() -> None:
            response = await server.request("fuzzed", GET, "/3/0/0")
            assert code(response) == "2.05" and response.payload == b"lwm2m-fleet"

        # the fuzz comes from the server's own socket (a device ignores other sources), so
        # its message ids keep clear of the server's: a reused id would be deduplicated
        first = (server.endpoint._mid + 1024) & 0xFFFF
        sent = 0

        def send(data: bytes) -> None:
            nonlocal sent
            if len(data) >= 4:
                mid = (first + sent % 60_000) & 0xFFFF
                data = data[:2] + mid.to_bytes(2, "big") + data[4:]
            sent += 1
            transport.sendto(data, target)

        grown = await _fuzz(send, alive)
        endpoint = device.endpoint
        assert endpoint is not None
        stats = endpoint.stats()
        assert stats.handler_errors == 0, "a handler failed (answered 5.00) on some datagram"
        assert device.is_registered
        assert grown < GROWTH, f"the device grew by {grown} bytes over the second batch"


async def test_the_server_survives_hostile_datagrams_with_flat_memory() -> None:
    clock = ManualClock()
    async with await Lwm2mServer.start(clock=clock, request_timeout=5.0) as lwm2m:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            asyncio.DatagramProtocol, local_addr=("127.0.0.1", 0)
        )
        device = await FakeDevice.start(lwm2m.address, "after-fuzz")
        rounds = 0

        async def alive() -> None:
            nonlocal rounds
            rounds += 1
            device.name = f"after-fuzz-{rounds % 50}"
            response = await device.register()
            assert response.code.dotted == "2.01", response
            assert (await device.deregister()).code.dotted == "2.02"

        try:
            grown = await _fuzz(lambda data: transport.sendto(data, lwm2m.address), alive)
            stats = lwm2m.stats()["coap"]
            assert stats.handler_errors == 0, "a handler failed (answered 5.00) on some datagram"
            response = await device.register()
            assert response.code.dotted == "2.01"
            await lwm2m.wait_for_registration(device.name, 5.0)
            assert (await lwm2m.read(device.name, "/3/0/0")).code == "2.05"
        finally:
            transport.close()
            device.close()
        assert grown < GROWTH, f"the server grew by {grown} bytes over the second batch"
