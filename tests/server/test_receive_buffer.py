"""The server asks the kernel for a large UDP receive buffer, so that a burst of thousands of
devices (a fleet de-registering at once) is not dropped and retransmitted seconds later."""

from __future__ import annotations

import pathlib
import socket

import pytest

from fleet.client.coap.endpoint import set_receive_buffer
from fleet.server import Lwm2mServer
from fleet.server.server import SERVER_RECEIVE_BUFFER

RMEM_MAX = pathlib.Path("/proc/sys/net/core/rmem_max")


def _buffer(server: Lwm2mServer) -> int:
    transport = server._coap()._transport
    assert transport is not None
    sock = transport.get_extra_info("socket")
    return int(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))


@pytest.mark.skipif(not RMEM_MAX.exists(), reason="Linux only: reads net.core.rmem_max")
@pytest.mark.asyncio
async def test_the_server_socket_gets_the_buffer_it_asks_for() -> None:
    ceiling = int(RMEM_MAX.read_text())
    wanted = min(SERVER_RECEIVE_BUFFER, ceiling)
    server = await Lwm2mServer.start()
    default = await Lwm2mServer.start(receive_buffer=None)
    try:
        assert _buffer(server) >= wanted
        if wanted > 2 * 212992:  # above Linux's usual default: the two must differ
            assert _buffer(default) < _buffer(server)
    finally:
        await server.stop()
        await default.stop()


def test_set_receive_buffer_reports_what_the_kernel_granted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        granted = set_receive_buffer(sock, 1 << 16)
        assert granted == sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        assert granted >= 1 << 16
        assert "receive buffer" not in caplog.text
        if RMEM_MAX.exists():
            huge = int(RMEM_MAX.read_text()) * 4
            set_receive_buffer(sock, huge)
            assert "the kernel granted" in caplog.text
