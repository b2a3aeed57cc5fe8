"""Interop with libcoap's ``coap-server-openssl`` and ``coap-server-gnutls`` (Debian
libcoap3-bin) as DTLS servers with certificates (``-c`` cert, ``-j`` key, ``-C`` CA): our
certificate client handshakes with a device certificate from a fleet CA and GETs
/.well-known/core over the session; a wrong CA (either side), an expired server
certificate, a server certificate for another name and a wrong pin fail at once with a
reason that says so."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from fleet.client.coap.dtls import DtlsHandshakeError
from fleet.client.coap.dtls_x509 import open_x509_client
from fleet.client.coap.x509 import der, load_certificates
from fleet.client.config import DeviceConfig
from fleet.client.fleet_ca import SERVER_FILE, SERVER_KEY, FleetCa

from ..dtls.helpers import (
    LIBCOAP_SERVERS,
    failed_handshake,
    free_port_pair,
    get_well_known,
    libcoap_marks,
    libcoap_server,
    registers_over_its_session,
)
from .helpers import credentials, requires_x509, write_pair

pytestmark = libcoap_marks(requires_x509)


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> FleetCa:
    return FleetCa.create(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def other_ca(tmp_path_factory: pytest.TempPathFactory) -> FleetCa:
    return FleetCa.create(tmp_path_factory.mktemp("other"), "some other CA")


def _args(ca: FleetCa, cert: Path | None = None, key: Path | None = None) -> list[str]:
    cert = cert or ca.directory / SERVER_FILE
    key = key or ca.directory / SERVER_KEY
    return ["-c", str(cert), "-j", str(key), "-C", str(ca.directory / "ca.pem")]


@pytest_asyncio.fixture(params=LIBCOAP_SERVERS)
async def libcoap(request: pytest.FixtureRequest, ca: FleetCa) -> AsyncIterator[tuple[str, int]]:
    """A libcoap server with the fleet CA's server certificate; yields (host, DTLS port)."""
    async with libcoap_server(request.param, free_port_pair(), _args(ca)) as address:
        yield address


async def test_handshake_and_get_with_certificates(libcoap: tuple[str, int], ca: FleetCa) -> None:
    client = await open_x509_client(
        "127.0.0.1", libcoap, credentials(ca, "sim-000001"), handshake_timeout=5.0
    )
    try:
        await get_well_known(client, libcoap)
    finally:
        client.close()
    assert client.endpoint.closed


async def test_a_server_of_another_ca_is_refused(
    libcoap: tuple[str, int], ca: FleetCa, other_ca: FleetCa
) -> None:
    device = credentials(ca, "sim-000002", trust=(other_ca.certificate_der,))
    with pytest.raises(DtlsHandshakeError) as caught:
        await open_x509_client("127.0.0.1", libcoap, device, handshake_timeout=5.0)
    message = str(caught.value)
    assert "sim-000002" in message and "wrong CA" in message
    assert caught.value.cause == "wrong CA"  # what the summary counts
    assert "handshake timeout" not in message  # refused at once, not timed out


async def test_the_server_refuses_a_device_of_another_ca(
    libcoap: tuple[str, int], other_ca: FleetCa, ca: FleetCa
) -> None:
    device = credentials(other_ca, "sim-000003", trust=(ca.certificate_der,))
    with pytest.raises(DtlsHandshakeError) as caught:
        await open_x509_client("127.0.0.1", libcoap, device, handshake_timeout=5.0)
    assert "does not trust the device certificate's CA" in str(caught.value)
    assert caught.value.cause == "wrong CA (device certificate)"


@pytest.mark.parametrize("program", LIBCOAP_SERVERS)
async def test_an_expired_server_certificate_is_refused(
    program: str, ca: FleetCa, tmp_path: Path
) -> None:
    cert, key = write_pair(ca, tmp_path, "old-server", days=30, age_days=400)
    async with libcoap_server(program, free_port_pair(), _args(ca, cert, key)) as address:
        with pytest.raises(DtlsHandshakeError) as caught:
            await open_x509_client(
                "127.0.0.1", address, credentials(ca, "sim-000004"), handshake_timeout=5.0
            )
    message = str(caught.value)
    assert "'old-server' has expired" in message and "sim-000004" in message
    assert caught.value.cause == "server certificate expired"


async def test_a_server_certificate_for_another_name_is_refused(
    libcoap: tuple[str, int], ca: FleetCa
) -> None:
    device = credentials(ca, "sim-000005", server_name="lwm2m.example.org")
    with pytest.raises(DtlsHandshakeError) as caught:
        await open_x509_client("127.0.0.1", libcoap, device, handshake_timeout=5.0)
    assert "does not name 'lwm2m.example.org'" in str(caught.value)
    assert caught.value.cause == "server certificate names another host"
    named = credentials(ca, "sim-000006", server_name="localhost")
    client = await open_x509_client("127.0.0.1", libcoap, named, handshake_timeout=5.0)
    client.close()


async def test_a_pinned_server_certificate(
    libcoap: tuple[str, int], ca: FleetCa, other_ca: FleetCa
) -> None:
    server = der(load_certificates(ca.directory / SERVER_FILE)[0])
    pinned = credentials(ca, "sim-000007", trust=(), server_certificate=server)
    client = await open_x509_client("127.0.0.1", libcoap, pinned, handshake_timeout=5.0)
    client.close()
    wrong = der(load_certificates(other_ca.directory / SERVER_FILE)[0])
    mispinned = credentials(ca, "sim-000008", trust=(), server_certificate=wrong)
    with pytest.raises(DtlsHandshakeError) as caught:
        await open_x509_client("127.0.0.1", libcoap, mispinned, handshake_timeout=5.0)
    assert "not the pinned server certificate" in str(caught.value)
    assert caught.value.cause == "pinned certificate mismatch"


async def test_a_device_sends_its_register_over_x509(libcoap: tuple[str, int], ca: FleetCa) -> None:
    """libcoap is no LwM2M server: the Register gets its 4.04 over the certificate session."""
    config = DeviceConfig(
        "sim-000010",
        server=f"coaps://127.0.0.1:{libcoap[1]}",
        x509=credentials(ca, "sim-000010"),
    )
    await registers_over_its_session(config, libcoap)


async def test_a_device_of_the_wrong_ca_reports_why(
    libcoap: tuple[str, int], ca: FleetCa, other_ca: FleetCa
) -> None:
    config = DeviceConfig(
        "sim-000011",
        server=f"coaps://127.0.0.1:{libcoap[1]}",
        x509=credentials(ca, "sim-000011", trust=(other_ca.certificate_der,)),
    )
    event = await failed_handshake(config)
    assert "sim-000011" in (event.error or "") and "wrong CA" in (event.error or "")
    assert event.cause == "wrong CA"  # counted per cause in the run summary
