"""A failed DTLS-PSK handshake says which of two things happened (issues 14 and 21): the
server sent an alert (``DTLS alert 40 (handshake_failure) received``, at once) or nothing
came back in time (``handshake timeout``), checked against servers we did not write with a
relay that decodes every record on the wire (:mod:`.wire`).

What the wire shows: no server here sends an alert for a wrong key. libcoap's
``coap-server-openssl`` and ``coap-server-gnutls`` and ``openssl s_server -dtls1_2 -psk``
answer the hello, then drop the Finished they cannot decrypt (RFC 6347 §4.1.2.7: invalid
records are silently discarded) and resend their flight, so a wrong key is a timeout; they
also take any identity (libcoap gives every identity the ``-k`` key, s_server only warns).
So the alert path is checked with servers that send one for another reason: libcoap with
certificates only and s_server with no PSK cipher in common both answer a PSK hello with a
fatal handshake_failure (40), which fails the handshake on a clock that never moves.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from fleet.client.coap.dtls import DtlsHandshakeError, open_dtls_client
from fleet.client.coap.psk import PskCredentials
from fleet.client.fleet_ca import SERVER_FILE, SERVER_KEY, FleetCa
from fleet.clock import ManualClock

from .helpers import free_port_pair, libcoap_server, requires_dtls
from .wire import HANDSHAKE, Relay, open_relay

KEY = b"secretPSK"
WAIT = 20.0
OPENSSL = shutil.which("openssl")

pytestmark = [pytest.mark.asyncio, pytest.mark.interop, requires_dtls]


def _needs(program: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        shutil.which(program) is None, reason=f"{program} not on PATH: scripts/install-tools.sh"
    )


@asynccontextmanager
async def s_server(*args: str) -> AsyncIterator[tuple[str, int]]:
    """``openssl s_server`` in DTLS 1.2 with PSK ``KEY`` and no certificate, until it accepts."""
    assert OPENSSL is not None
    port = free_port_pair()
    process = await asyncio.create_subprocess_exec(
        *[OPENSSL, "s_server", "-dtls1_2", "-nocert", "-psk", KEY.hex()],
        *["-accept", f"127.0.0.1:{port}", *args],
        stdin=subprocess.PIPE,  # kept open: s_server ends on end of input
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert process.stdout is not None
    try:
        while (await asyncio.wait_for(process.stdout.readline(), WAIT)).strip() != b"ACCEPT":
            assert process.returncode is None, "openssl s_server exited"
        yield ("127.0.0.1", port)
    finally:
        process.terminate()
        await process.wait()


@asynccontextmanager
async def peer(kind: str, tmp_path: Path) -> AsyncIterator[tuple[str, int]]:
    """The DTLS server of ``kind`` at (host, port)."""
    if kind == "s_server-psk":
        async with s_server("-cipher", "PSK-AES128-CCM8") as address:
            yield address
    elif kind == "s_server-other-cipher":
        async with s_server("-cipher", "PSK-AES256-CBC-SHA") as address:
            yield address
    else:
        program, _, setup = kind.partition(":")
        if setup == "certificates-only":
            ca = FleetCa.create(tmp_path / "ca")
            args = ["-c", str(ca.directory / SERVER_FILE), "-j", str(ca.directory / SERVER_KEY)]
        else:
            args = ["-k", KEY.decode()]
        async with libcoap_server(program, free_port_pair(), args) as address:
            yield address


WRONG_KEY_PEERS = [
    pytest.param("coap-server-openssl", marks=_needs("coap-server-openssl")),
    pytest.param("coap-server-gnutls", marks=_needs("coap-server-gnutls")),
    pytest.param("s_server-psk", marks=_needs("openssl")),
]
ALERT_PEERS = [
    pytest.param("coap-server-openssl:certificates-only", marks=_needs("coap-server-openssl")),
    pytest.param("s_server-other-cipher", marks=_needs("openssl")),
]


@pytest.mark.parametrize("kind", WRONG_KEY_PEERS)
async def test_a_wrong_key_gets_no_alert_and_is_a_handshake_timeout(
    kind: str, tmp_path: Path
) -> None:
    async with peer(kind, tmp_path) as address:
        relay = await open_relay(address)
        clock = ManualClock()
        wrong = PskCredentials.of("sim-000001", "hex:" + b"wrong key".hex())
        attempt = asyncio.ensure_future(
            open_dtls_client(
                "127.0.0.1", relay.address(), wrong, handshake_timeout=10.0, clock=clock
            )
        )
        try:
            # our Finished sent and sent again: the server had a whole retransmission
            # interval to answer the first with an alert
            await asyncio.wait_for(relay.until(lambda: relay.client_sent_encrypted() >= 2), WAIT)
            assert not attempt.done()
            await clock.advance(10.0)
            with pytest.raises(DtlsHandshakeError) as caught:
                await asyncio.wait_for(attempt, WAIT)
        finally:
            relay.close()
    assert relay.server_alerts() == []  # the capture: nothing but handshake records came back
    assert any(r.from_server and r.content_type == HANDSHAKE for r in relay.seen)
    assert caught.value.cause == "handshake timeout"
    message = str(caught.value)
    assert message.startswith(f"DTLS handshake with 127.0.0.1:{relay.address()[1]} as 'sim-000001'")
    assert "handshake timeout after 10 s, no alert" in message
    assert "the server answered the hello but not our Finished" in message


@pytest.mark.parametrize("kind", ALERT_PEERS)
async def test_an_alert_fails_the_handshake_at_once_with_its_description(
    kind: str, tmp_path: Path
) -> None:
    async with peer(kind, tmp_path) as address:
        relay = await open_relay(address)
        clock = ManualClock()  # never advanced: only the server's alert can end the attempt
        good = PskCredentials.of("sim-000002", KEY)
        try:
            with pytest.raises(DtlsHandshakeError) as caught:
                await asyncio.wait_for(
                    open_dtls_client("127.0.0.1", relay.address(), good, clock=clock), WAIT
                )
        finally:
            relay.close()
    assert [r.alert for r in relay.server_alerts()] == [(2, 40)]  # fatal handshake_failure
    assert caught.value.cause == "DTLS alert 40 (handshake_failure) received"
    at = relay.address()[1]
    assert str(caught.value) == (
        f"DTLS handshake with 127.0.0.1:{at} as 'sim-000002': "
        "DTLS alert 40 (handshake_failure) received"
    )
    assert clock.pending() == 0  # the timeout was cancelled, not left to run out


async def test_the_relay_reads_records_as_the_wire_has_them() -> None:
    """The capture itself: two records in one datagram, a plaintext alert, an encrypted one."""
    from .wire import records

    alert = bytes([21, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 3, 0, 2, 2, 40])
    encrypted = bytes([21, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 1, 0, 3]) + b"xyz"
    both = records(alert + encrypted, from_server=True)
    assert [(r.content_type, r.epoch, r.alert) for r in both] == [(21, 0, (2, 40)), (21, 1, None)]
    assert Relay(("127.0.0.1", 1)).server_alerts() == []
