"""A device that does not answer (DeviceTimeout, the platform's 408) or resets (DeviceReset)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiocoap.numbers.codes import Code

from fleet.clock import ManualClock
from fleet.model import Path
from fleet.server import DeviceReset, DeviceTimeout, EventKind, Lwm2mServer, Operation
from tests.client.coap.helpers import build
from tests.server.fakes import FakeDevice

CON = 0

pytestmark = pytest.mark.asyncio


async def test_silent_device_times_out_after_the_timeout_parameter(
    server: Lwm2mServer, device: FakeDevice
) -> None:
    device.silent = True
    failed = server.expect(EventKind.RESPONSE, endpoint="dev1")
    with pytest.raises(DeviceTimeout) as caught:
        await server.read("dev1", "/3/0", timeout=0.2, request_id="req-1")
    error = caught.value
    assert isinstance(error, TimeoutError) and error.status == 408
    assert (error.endpoint, error.operation, error.request_id) == ("dev1", "read", "req-1")
    assert error.target == "/3/0"
    event = await asyncio.wait_for(failed, 1.0)
    assert event.error is error and event.result is None and event.request_id == "req-1"
    assert server.counters.timeouts == 1 and server.counters.requests["read"] == 1
    assert device.seen[-1].path == Path(3, 0)  # it did arrive; nobody answered


async def _manual_server() -> tuple[ManualClock, Lwm2mServer, FakeDevice]:
    clock = ManualClock()
    server = await Lwm2mServer.start(clock=clock)
    device = await FakeDevice.start(server.address, "dev1", lifetime=100_000)
    await device.register()
    await server.wait_for_registration("dev1", 5.0)
    return clock, server, device


async def test_unreachable_device_times_out_when_retransmissions_run_out() -> None:
    clock, server, device = await _manual_server()
    try:
        device.close()  # the socket is gone: not even an empty ACK comes back
        task = asyncio.create_task(server.write("dev1", "/3442/0/110", "lost"))
        await clock.advance(44.0)  # 2 + 4 + 8 + 16 s at the least: still retransmitting
        assert not task.done()
        await clock.advance(50.0)  # MAX_TRANSMIT_WAIT is 93 s at the most
        with pytest.raises(DeviceTimeout) as caught:
            await task
        assert caught.value.operation == str(Operation.WRITE)
        stats = server.stats()
        assert stats["coap"].retransmissions == 4 and stats["timeouts"] == 1
    finally:
        await server.stop()


async def test_timeout_runs_on_the_servers_clock() -> None:
    clock, server, device = await _manual_server()
    try:
        device.silent = True  # answers nothing but an empty ACK
        task = asyncio.create_task(server.execute("dev1", "/3442/0/2", timeout=30.0))
        await clock.advance(29.0)
        assert not task.done()
        await clock.advance(2.0)
        with pytest.raises(DeviceTimeout):
            await task
    finally:
        device.close()
        await server.stop()


async def test_server_default_request_timeout_applies() -> None:
    clock = ManualClock()
    async with await Lwm2mServer.start(clock=clock, request_timeout=5.0) as server:
        device = await FakeDevice.start(server.address, "dev1", lifetime=100_000)
        try:
            await device.register()
            await server.wait_for_registration("dev1", 5.0)
            device.silent = True
            task = asyncio.create_task(server.read("dev1", "/3"))
            await clock.advance(4.9)
            assert not task.done()
            await clock.advance(0.2)
            with pytest.raises(DeviceTimeout):
                await task
            observing = asyncio.create_task(server.observe("dev1", "/3303/0/5700"))
            await clock.advance(5.1)
            with pytest.raises(DeviceTimeout):
                await observing
            assert server.observations() == [] and server.counters.timeouts == 2
        finally:
            device.close()


class _Resetter(asyncio.DatagramProtocol):
    """A "device" that registers, then answers every datagram with a Reset."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if data[1] != 0x41:  # anything but our Register's 2.01
            self.transport.sendto(bytes([0x70, 0x00]) + data[2:4], addr)  # RST, same id


async def test_a_reset_from_the_device_raises_device_reset(server: Lwm2mServer) -> None:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(_Resetter, local_addr=("127.0.0.1", 0))
    try:
        transport.sendto(
            build(CON, Code.POST, 1, b"r", b"</3/0>", uri_path=("rd",), uri_query=("ep=resetter",)),
            server.address,
        )
        await server.wait_for_registration("resetter", 5.0)
        with pytest.raises(DeviceReset) as caught:
            await server.read("resetter", "/3/0")
        assert caught.value.status == 503 and server.counters.resets == 1
        assert server.recent_events[-1].error is caught.value
    finally:
        transport.close()
