"""Interop with libcoap's ``coap-server-openssl`` and ``coap-server-gnutls`` (Debian
libcoap3-bin) as DTLS-PSK servers: our endpoint handshakes and GETs /.well-known/core over
the session; a wrong key is refused and reported per device, without a hang. A whole
:class:`~fleet.client.device.Device` with a ``coaps://`` config handshakes, reports it as a
Handshake event and sends its Register over the session (libcoap is no LwM2M server: it
answers 4.04); with a wrong key its Handshake event carries the error."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiocoap import Message
from aiocoap.numbers.codes import Code

from fleet.client.coap.dtls import DtlsHandshakeError, open_dtls_client
from fleet.client.coap.dtls_server import open_dtls_server
from fleet.client.coap.psk import PskCredentials
from fleet.client.config import DeviceConfig

from .helpers import (
    LIBCOAP_SERVERS,
    failed_handshake,
    free_port_pair,
    get_well_known,
    libcoap_marks,
    libcoap_server,
    registers_over_its_session,
    requires_dtls,
)

KEY = b"secretPSK"

pytestmark = libcoap_marks(requires_dtls)


@pytest_asyncio.fixture(params=LIBCOAP_SERVERS)
async def libcoap(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, int]]:
    """A libcoap server with PSK ``KEY``; yields (host, DTLS port) once it answers plain CoAP."""
    async with libcoap_server(request.param, free_port_pair(), ["-k", KEY.decode()]) as address:
        yield address


async def test_handshake_and_get_over_dtls(libcoap: tuple[str, int]) -> None:
    credentials = PskCredentials.of("sim-000001", "hex:" + KEY.hex())
    client = await open_dtls_client("127.0.0.1", libcoap, credentials, handshake_timeout=5.0)
    try:
        await get_well_known(client, libcoap)
        assert client.transport.records_in >= 3  # handshake flights plus the response
    finally:
        client.close()
    assert client.endpoint.closed


async def test_wrong_key_is_reported_not_hung(libcoap: tuple[str, int]) -> None:
    credentials = PskCredentials.of("sim-000002", "base64:d3Jvbmcga2V5")
    with pytest.raises(DtlsHandshakeError) as caught:
        await asyncio.wait_for(
            open_dtls_client("127.0.0.1", libcoap, credentials, handshake_timeout=1.5), 10.0
        )
    assert "sim-000002" in str(caught.value)
    # the server is still fine for the next device
    good = PskCredentials.of("sim-000003", KEY)
    client = await open_dtls_client("127.0.0.1", libcoap, good, handshake_timeout=5.0)
    client.close()


CLIENT = shutil.which("coap-client-openssl")


@pytest.mark.skipif(CLIENT is None, reason="coap-client-openssl not on PATH")
@pytest.mark.parametrize(
    ("identity", "key", "answered"),
    [("sim-000001", "key-1", True), ("sim-000001", "wrong", False), ("nobody", "key-1", False)],
    ids=["right-key", "wrong-key", "unknown-identity"],
)
async def test_libcoap_client_against_our_dtls_server(
    identity: str, key: str, answered: bool
) -> None:
    """Server role: libcoap's client handshakes with our key lookup and gets our answer."""
    keys = {b"sim-000001": b"key-1"}

    def handler(request: Message) -> Message:
        return Message(code=Code.CONTENT, payload=b"hello over dtls", content_format=0)

    server = await open_dtls_server("127.0.0.1", 0, keys.get, handler=handler)
    host, port = server.endpoint.address
    assert CLIENT is not None
    try:
        process = await asyncio.create_subprocess_exec(
            *[CLIENT, "-B", "3", "-u", identity, "-k", key, f"coaps://{host}:{port}/x"],
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, _ = await asyncio.wait_for(process.communicate(), 20.0)
        assert (b"hello over dtls" in out) == answered
        stats = server.transport.stats()
        assert stats.handshakes == (1 if answered else 0)
        if answered:
            assert stats.dropped == 0
    finally:
        server.close()


async def test_a_device_registers_over_its_session_with_libcoap(libcoap: tuple[str, int]) -> None:
    psk = PskCredentials.of("sim-000010", "hex:" + KEY.hex())
    config = DeviceConfig("sim-000010", server=f"coaps://127.0.0.1:{libcoap[1]}", psk=psk)
    await registers_over_its_session(config, libcoap)


async def test_a_device_with_a_wrong_key_reports_the_failed_handshake(
    libcoap: tuple[str, int],
) -> None:
    psk = PskCredentials.of("sim-000011", "hex:" + b"wrong key".hex())
    config = DeviceConfig(
        "sim-000011", server=f"coaps://127.0.0.1:{libcoap[1]}", psk=psk, handshake_timeout=1.0
    )
    event = await failed_handshake(config)
    assert "sim-000011" in (event.error or "") and b"wrong key".hex() not in (event.error or "")
