"""A device raises its UDP receive buffer where the kernel allows, so a burst is not dropped.

At Linux's default (~208 KiB) a burst of confirmable requests was mostly dropped by the kernel
before the device saw it. Over real UDP: a burst of CoAP pings (CON, empty) sent in one go,
each answered with a Reset by the device.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from fleet.client.config import DEVICE_RECEIVE_BUFFER
from fleet.client.device import Device

from .fakes import FakeServer, registered_device

pytestmark = pytest.mark.asyncio
EP = "dev-1"
BURST = 1500


def _granted(device: Device) -> int:
    endpoint = device.endpoint
    assert endpoint is not None and endpoint._transport is not None
    sock = endpoint._transport.get_extra_info("socket")
    return int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))


async def _burst(device: Device) -> int:
    """Pings sent without yielding to the loop; how many Resets came back."""
    assert device.address is not None
    loop = asyncio.get_running_loop()
    answers = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)  # the answers fit here
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        for mid in range(BURST):
            sock.sendto(bytes([0x40, 0, mid >> 8, mid & 0xFF]), device.address)
        try:
            while answers < BURST:
                await asyncio.wait_for(loop.sock_recv(sock, 64), 2.0)
                answers += 1
        except TimeoutError:
            pass
    return answers


async def test_the_device_socket_gets_a_large_buffer(server: FakeServer) -> None:
    async with registered_device(server, EP) as device:
        assert _granted(device) >= DEVICE_RECEIVE_BUFFER
    async with registered_device(server, "dev-2", receive_buffer=None) as plain:
        assert _granted(plain) < DEVICE_RECEIVE_BUFFER  # the system default


async def test_a_burst_of_confirmable_messages_is_answered(server: FakeServer) -> None:
    async with registered_device(server, EP, any_source=True) as device:
        answered = await _burst(device)
    assert answered >= 0.99 * BURST, f"{answered} of {BURST} pings answered"
