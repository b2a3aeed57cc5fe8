"""The embedded server over DTLS with certificates: devices of the fleet CA register and
are managed over their session, the Security object stays on the device, a device of
another CA or with an expired certificate is refused with a reason that says so, PSK and
certificates on one port are refused (the library has no PSK server), and libcoap's
coap-client-openssl (software we did not write) handshakes with it using a certificate.
Protocol time is a ManualClock; loopback waits are bounded in real seconds."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from fleet.client.coap.dtls import DtlsHandshakeError
from fleet.client.coap.x509 import X509Credentials, der, load_certificates, load_key_der
from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.events import ClientEvent, Handshake
from fleet.client.fleet_ca import FleetCa
from fleet.client.transport import open_endpoint
from fleet.clock import ManualClock
from fleet.server import Lwm2mServer

from ..client.x509.helpers import credentials, requires_x509, server_credentials, write_pair

pytestmark = [pytest.mark.asyncio, requires_x509]
WAIT = 5.0


async def within(awaitable: Any, seconds: float = WAIT) -> Any:
    return await asyncio.wait_for(awaitable, seconds)


@pytest.fixture
def ca(tmp_path: Path) -> FleetCa:
    return FleetCa.create(tmp_path / "ca")


@pytest_asyncio.fixture
async def server(ca: FleetCa) -> AsyncIterator[Lwm2mServer]:
    async with await Lwm2mServer.start(
        clock=ManualClock(), certificate=server_credentials(ca)
    ) as started:
        yield started


async def _attempt(config: DeviceConfig, clock: ManualClock) -> tuple[Any, list[ClientEvent]]:
    events: list[ClientEvent] = []
    attempt = open_endpoint(
        config,
        config.server_address,
        handler=None,
        clock=clock,
        rng=None,
        on_cancel=lambda *_: None,
        emit=events.append,
    )
    return attempt, events


async def test_a_certificate_device_registers_and_is_managed(
    server: Lwm2mServer, ca: FleetCa
) -> None:
    clock = server.clock
    assert isinstance(clock, ManualClock)
    x509 = credentials(ca, "sim-000001")
    device = Device(
        DeviceConfig("sim-000001", server=server.secure_uri or "", x509=x509), clock=clock
    )
    try:
        await device.start()
        await within(device.registered.wait())
        await server.wait_for_registration("sim-000001", timeout=WAIT)
        assert server.psk_identity("sim-000001") == b"sim-000001"  # the certificate's name
        result = await within(server.write("sim-000001", "/3442/0/110", "over x509"))
        assert result.code == "2.04" and device.tree.value("/3442/0/110") == "over x509"
        for path in ("/0", "/0/0/5", "/0/0/3"):
            assert (await within(server.read("sim-000001", path))).code == "4.01"
        assert device.tree.value("/0/0/5") == x509.key  # kept on the device
        stats = server.stats()["dtls"]
        assert stats.handshakes == 1 and stats.sessions == 1
    finally:
        await within(device.stop())


async def test_a_device_of_another_ca_is_refused(
    server: Lwm2mServer, ca: FleetCa, tmp_path: Path
) -> None:
    other = FleetCa.create(tmp_path / "other", "other CA")
    config = DeviceConfig(
        "sim-000002",
        server=server.secure_uri or "",
        x509=credentials(other, "sim-000002", trust=(ca.certificate_der,)),
    )
    attempt, events = await _attempt(config, ManualClock())
    with pytest.raises(DtlsHandshakeError, match="does not trust the device certificate's CA"):
        await within(attempt)
    (event,) = events
    assert isinstance(event, Handshake) and "sim-000002" in (event.error or "")
    assert server.stats()["dtls"].failed_handshakes == 1


async def test_an_expired_device_certificate_is_refused(
    server: Lwm2mServer, ca: FleetCa, tmp_path: Path
) -> None:
    cert, key = write_pair(ca, tmp_path, "sim-000003", days=10, age_days=40)
    x509 = X509Credentials(
        der(load_certificates(cert)[0]),
        load_key_der(key),
        "sim-000003",
        trust=(ca.certificate_der,),
        chain=(ca.certificate_der,),
    )
    config = DeviceConfig("sim-000003", server=server.secure_uri or "", x509=x509)
    attempt, _ = await _attempt(config, ManualClock())
    with pytest.raises(DtlsHandshakeError, match="refused the device certificate as expired") as e:
        await within(attempt)
    assert e.value.cause == "expired certificate"


async def test_psk_and_certificates_on_one_port_are_refused(ca: FleetCa) -> None:
    with pytest.raises(ValueError, match="pyOpenSSL, has no PSK server"):
        await Lwm2mServer.start(certificate=server_credentials(ca), psk={}.get)


CLIENT = shutil.which("coap-client-openssl")


@pytest.mark.interop
@pytest.mark.skipif(CLIENT is None, reason="coap-client-openssl not on PATH")
@pytest.mark.parametrize("trusted", [True, False], ids=["fleet-ca", "other-ca"])
async def test_libcoap_client_with_a_certificate(
    server: Lwm2mServer, ca: FleetCa, tmp_path: Path, trusted: bool
) -> None:
    """coap-client-openssl presents a certificate of the fleet CA (or of another CA) and
    checks ours against the fleet CA (-C): only the fleet CA's device gets a session."""
    issuer = ca if trusted else FleetCa.create(tmp_path / "stranger", "stranger CA")
    cert, key = write_pair(issuer, tmp_path, "libcoap-client")
    assert CLIENT is not None and server.secure_address is not None
    host, port = server.secure_address
    process = await asyncio.create_subprocess_exec(
        *[CLIENT, "-B", "3", "-c", str(cert), "-j", str(key), "-C", str(ca.directory / "ca.pem")],
        f"coaps://{host}:{port}/.well-known/core",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    await within(process.communicate(), 20.0)
    stats = server.stats()["dtls"]
    assert stats.handshakes == (1 if trusted else 0)
    assert stats.failed_handshakes == (0 if trusted else 1)
