"""Device endpoint over DTLS to our own DTLS server endpoint: the device registers over the
session it opened, and the server's own requests (Read, Write, Observe with a notification)
reach the device over that same session. Identities map to keys by lookup."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiocoap import Message
from aiocoap.numbers.codes import Code

from fleet.client.coap import EndpointLimits
from fleet.client.coap.dtls import DtlsHandshakeError, open_dtls_client
from fleet.client.coap.dtls_server import DtlsServer, open_dtls_server
from fleet.client.coap.psk import PskCredentials

from .helpers import requires_dtls

pytestmark = [pytest.mark.asyncio, requires_dtls]

KEYS = {f"sim-{index:06d}".encode(): f"key-{index}".encode() for index in range(3)}


class Registrar:
    """Server handler: remembers where each registration came from."""

    def __init__(self) -> None:
        self.registered: asyncio.Queue[tuple[Any, bytes]] = asyncio.Queue()

    def __call__(self, request: Any) -> Any:
        if request.code == Code.POST and request.opt.uri_path == ("rd",):
            self.registered.put_nowait((request.remote, request.payload))
            return Message(code=Code.CREATED, location_path=["rd", "1"])
        return Message(code=Code.NOT_FOUND)


class DeviceHandler:
    """Device handler: /3/0/0 readable and writable, observable."""

    def __init__(self) -> None:
        self.value = b"fleet"

    def __call__(self, request: Any) -> Any:
        if request.opt.uri_path != ("3", "0", "0"):
            return Message(code=Code.NOT_FOUND)
        if request.code == Code.PUT:
            self.value = request.payload
            return Message(code=Code.CHANGED)
        response = Message(code=Code.CONTENT, payload=self.value, content_format=0)
        if request.opt.observe == 0:
            response.opt.observe = 0
        return response


@pytest_asyncio.fixture
async def server() -> AsyncIterator[tuple[DtlsServer, Registrar]]:
    registrar = Registrar()
    opened = await open_dtls_server(
        "127.0.0.1",
        0,
        KEYS.get,
        handshake_timeout=2.0,
        handler=registrar,
        limits=EndpointLimits(dedup_max_entries=4096),
    )
    yield opened, registrar
    opened.close()


async def test_server_requests_travel_over_the_device_session(
    server: tuple[DtlsServer, Registrar],
) -> None:
    dtls_server, registrar = server
    address = dtls_server.endpoint.address
    device = DeviceHandler()
    client = await open_dtls_client(
        "127.0.0.1",
        address,
        PskCredentials(b"sim-000001", KEYS[b"sim-000001"]),
        handshake_timeout=5.0,
        handler=device,
    )
    try:
        register = Message(code=Code.POST, uri_path=["rd"], payload=b"</3/0>")
        response = await client.endpoint.request(register, address, timeout=5.0)
        assert response.code == Code.CREATED
        remote, payload = await asyncio.wait_for(registrar.registered.get(), 5.0)
        assert payload == b"</3/0>"
        assert remote == client.endpoint.address  # the device's own UDP address
        assert dtls_server.transport.identity(remote) == b"sim-000001"

        server_ep = dtls_server.endpoint
        read = Message(code=Code.GET, uri_path=["3", "0", "0"])
        assert (await server_ep.request(read, remote, timeout=5.0)).payload == b"fleet"

        write = Message(code=Code.PUT, uri_path=["3", "0", "0"], payload=b"new", content_format=0)
        assert (await server_ep.request(write, remote, timeout=5.0)).code == Code.CHANGED
        assert device.value == b"new"

        observe = Message(code=Code.GET, uri_path=["3", "0", "0"], observe=0)
        observation = server_ep.observe(observe, remote, timeout=5.0)
        first = await observation.response
        assert first.payload == b"new"
        token = first.token
        sent = client.endpoint.notify(
            address, token, Message(code=Code.CONTENT, payload=b"changed", content_format=0)
        )
        notification = await asyncio.wait_for(anext(aiter(observation)), 5.0)
        assert notification.payload == b"changed"
        assert await asyncio.wait_for(sent, 5.0)
        await observation.cancel()

        stats = dtls_server.transport.stats()
        assert stats.sessions == 1 and stats.handshakes == 1 and stats.dropped == 0
    finally:
        client.close()


async def test_many_devices_each_get_their_own_session(
    server: tuple[DtlsServer, Registrar],
) -> None:
    dtls_server, _ = server
    address = dtls_server.endpoint.address
    clients = [
        await open_dtls_client("127.0.0.1", address, PskCredentials(ident, key))
        for ident, key in KEYS.items()
    ]
    try:
        for client in clients:
            response = await client.endpoint.request(
                Message(code=Code.POST, uri_path=["rd"]), address, timeout=5.0
            )
            assert response.code == Code.CREATED
            assert dtls_server.transport.identity(client.endpoint.address) in KEYS
        identities = {dtls_server.transport.identity(client.endpoint.address) for client in clients}
        assert identities == set(KEYS)
        assert dtls_server.transport.stats().sessions == len(KEYS)
    finally:
        for client in clients:
            client.close()


@pytest.mark.parametrize(
    ("identity", "key"),
    [(b"sim-000001", b"not the key"), (b"sim-999999", b"key-1")],
    ids=["wrong-key", "unknown-identity"],
)
async def test_bad_credentials_are_refused(
    server: tuple[DtlsServer, Registrar], identity: bytes, key: bytes
) -> None:
    dtls_server, _ = server
    address = dtls_server.endpoint.address
    with pytest.raises(DtlsHandshakeError):
        await asyncio.wait_for(
            open_dtls_client(
                "127.0.0.1", address, PskCredentials(identity, key), handshake_timeout=1.0
            ),
            10.0,
        )
    assert dtls_server.transport.stats().sessions == 0
    # a good device still gets in afterwards
    good = await open_dtls_client("127.0.0.1", address, PskCredentials(b"sim-000002", b"key-2"))
    good.close()


async def test_device_hears_when_the_server_ends_its_session(
    server: tuple[DtlsServer, Registrar],
) -> None:
    dtls_server, _ = server
    address = dtls_server.endpoint.address
    lost: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    client = await open_dtls_client(
        "127.0.0.1",
        address,
        PskCredentials(b"sim-000000", b"key-0"),
        on_lost=lambda reason: lost.set_result(reason) if not lost.done() else None,
    )
    try:
        dtls_server.close()
        reason = await asyncio.wait_for(lost, 5.0)
        assert "close_notify" in reason and "sim-000000" in reason
        assert client.transport.lost == reason
        # datagrams after the loss are dropped, not sent in the clear
        before = client.transport.records_out
        client.transport.sendto(b"\x40\x01\x00\x01", address)
        assert client.transport.records_out == before
    finally:
        client.close()
