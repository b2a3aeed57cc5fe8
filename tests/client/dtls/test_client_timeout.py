"""The handshake timeout runs on the injected clock: a server that never answers is a clear
:class:`DtlsHandshakeError` once the clock passes the timeout, and nothing stays open."""

from __future__ import annotations

import asyncio
import socket

import pytest

from fleet.client.coap.dtls import DtlsHandshakeError, open_dtls_client
from fleet.client.coap.psk import PskCredentials
from fleet.clock import ManualClock

from .helpers import requires_dtls

pytestmark = [pytest.mark.asyncio, requires_dtls]


async def test_silent_server_fails_after_the_timeout_on_the_clock() -> None:
    clock = ManualClock()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.setblocking(False)
        server = silent.getsockname()
        credentials = PskCredentials.of("sim-000001", "hex:" + b"secretPSK".hex())
        attempt = asyncio.ensure_future(
            open_dtls_client("127.0.0.1", server, credentials, handshake_timeout=30.0, clock=clock)
        )
        loop = asyncio.get_running_loop()
        hello = await asyncio.wait_for(loop.sock_recv(silent, 2048), 5.0)  # uvloop: no recvfrom
        assert hello[0] == 22  # a DTLS handshake record: the ClientHello went out
        await clock.advance(29.0)
        assert not attempt.done()
        await clock.advance(1.0)
        with pytest.raises(DtlsHandshakeError) as caught:
            await asyncio.wait_for(attempt, 5.0)
    message = str(caught.value)
    assert "sim-000001" in message and "30 s" in message
    assert "no answer at all" in message  # the reason: nothing came back
    assert "secretPSK" not in message and b"secretPSK".hex() not in message


async def test_closed_port_fails_at_once_not_after_the_timeout() -> None:
    clock = ManualClock()  # never advanced: only the ICMP error can end the attempt
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()
    credentials = PskCredentials.of("sim-000004", "00112233")
    with pytest.raises(DtlsHandshakeError) as caught:
        await asyncio.wait_for(open_dtls_client("127.0.0.1", closed, credentials, clock=clock), 5.0)
    assert "sim-000004" in str(caught.value)
    assert clock.pending() == 0  # the timeout timer was cancelled
