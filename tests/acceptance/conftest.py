"""Fixtures for the acceptance tests: a real :class:`Device` against a real :class:`Lwm2mServer`.

Both talk real UDP on loopback and share one :class:`~fleet.clock.ManualClock`, so that protocol
time (pmin/pmax, lifetimes, CoAP retransmissions) moves only when a test says so. Waiting for the
network is bounded in real seconds (:data:`WAIT`).

The device matrix (``test_matrix*.py``) runs three times: over plain UDP (``coap://``), over
DTLS-PSK (``coaps://``, every device with its own identity, the server finding keys by identity)
and over DTLS with certificates (``x509``: every device with its own certificate of a fleet CA,
the server checking it against that CA), through the ``transport`` parameter. Other modules run
over UDP only.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import pytest
import pytest_asyncio

from fleet.client.coap.dtls import dtls_available
from fleet.client.coap.x509 import x509_available
from fleet.client.config import DeviceConfig
from fleet.client.credentials import PatternCredentials, key_lookup
from fleet.client.device import Device
from fleet.clock import ManualClock
from fleet.server import Lwm2mServer

WAIT = 5.0
"""Real seconds any one network exchange may take on loopback."""

DTLS_REASON = dtls_available()
X509_REASON = x509_available()
KEYS = PatternCredentials("psk-{endpoint}", "hex:000102030405060708090a0b0c0d0e0f")
"""Keys of the DTLS runs: one identity per device name."""
TRANSPORTS = (
    "udp",
    pytest.param(
        "dtls",
        marks=[
            pytest.mark.slow,  # about 3 s more for the whole matrix
            pytest.mark.skipif(DTLS_REASON is not None, reason=DTLS_REASON or ""),
        ],
    ),
    pytest.param(
        "x509",
        marks=[
            pytest.mark.slow,
            pytest.mark.skipif(X509_REASON is not None, reason=X509_REASON or ""),
        ],
    ),
)

T = TypeVar("T")
DeviceFactory = Callable[..., Awaitable[Device]]


async def within(awaitable: Awaitable[T], seconds: float = WAIT) -> T:
    """``awaitable``, bounded in real seconds."""
    return await asyncio.wait_for(awaitable, seconds)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """The matrix modules run over each transport (``udp``, ``dtls``, ``x509``)."""
    if metafunc.module.__name__.rsplit(".", 1)[-1].startswith("test_matrix") and (
        "transport" in metafunc.fixturenames
    ):
        metafunc.parametrize("transport", TRANSPORTS)


@pytest.fixture
def transport() -> str:
    """``udp``, ``dtls`` or ``x509`` (parametrised for the matrix modules, else ``udp``)."""
    return "udp"


@pytest.fixture(scope="session")
def fleet_ca(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A fleet CA for the ``x509`` runs (one per test session: minting is cheap, not free)."""
    from fleet.client.fleet_ca import FleetCa

    return FleetCa.create(tmp_path_factory.mktemp("fleet-ca"))


@pytest_asyncio.fixture
async def clock() -> ManualClock:
    return ManualClock()


@pytest_asyncio.fixture
async def server(
    clock: ManualClock, transport: str, request: pytest.FixtureRequest
) -> AsyncIterator[Lwm2mServer]:
    """An embedded server on the manual clock, reading /3 and /6 after every Register
    (accepting DTLS-PSK with :data:`KEYS` as well when ``transport`` is ``dtls``, and
    certificates of the fleet CA when it is ``x509``)."""
    psk = key_lookup([KEYS]) if transport == "dtls" else None
    certificate = None
    if transport == "x509":
        from ..client.x509.helpers import server_credentials

        certificate = server_credentials(request.getfixturevalue("fleet_ca"))
    async with await Lwm2mServer.start(
        clock=clock, read_on_register=("/3", "/6"), psk=psk, certificate=certificate
    ) as started:
        yield started


@pytest_asyncio.fixture
async def make_device(
    clock: ManualClock, server: Lwm2mServer, transport: str, request: pytest.FixtureRequest
) -> AsyncIterator[DeviceFactory]:
    """``await make_device("dev1", lwm2m_version="1.0")``: a started, registered Device
    (the server's on-register reads done) over ``transport``; stopped (de-registered) at the
    end. Over DTLS the test also checks that the device registered over its own session."""
    made: list[Device] = []

    async def make(name: str = "dev1", **config: Any) -> Device:
        if transport == "dtls" and server.secure_uri is not None:
            config.setdefault("server", server.secure_uri)
            config.setdefault("psk", KEYS.credentials(len(made), name))
        elif transport == "x509" and server.secure_uri is not None:
            from ..client.x509.helpers import credentials

            config.setdefault("server", server.secure_uri)
            config.setdefault("x509", credentials(request.getfixturevalue("fleet_ca"), name))
        else:
            config.setdefault("server", server.uri)
        device = Device(DeviceConfig(name, **config), clock=clock)
        made.append(device)
        await device.start()
        await within(device.registered.wait())
        await server.wait_for_registration(name, timeout=WAIT, hooks=True)
        if transport == "dtls":
            assert server.psk_identity(name) == f"psk-{name}".encode()
        if transport == "x509":
            assert server.psk_identity(name) == name.encode()  # its certificate's name
        return device

    yield make
    for device in made:
        if device.endpoint is not None:
            await within(device.stop())
