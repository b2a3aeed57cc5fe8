"""Shared bits of the DTLS tests: the skip gate (same reason as the package gives), ports,
a libcoap server (``coap-server-openssl``/``-gnutls``) run for a test, and the checks the
PSK and the certificate interop tests make against it."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiocoap import Message
from aiocoap.numbers.codes import Code

from fleet.client.coap import CoapEndpoint, CoapTimeout
from fleet.client.coap.dtls import dtls_available
from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.events import ClientEvent, Handshake, RegistrationFailed

REASON = dtls_available()
requires_dtls = pytest.mark.skipif(REASON is not None, reason=REASON or "")


def free_port_pair() -> int:
    """A UDP port ``p`` on 127.0.0.1 with ``p + 1`` free too (libcoap serves DTLS on p + 1)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            if port >= 65534:
                continue
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
        return port
    raise RuntimeError("no free pair of UDP ports")


@asynccontextmanager
async def libcoap_server(
    program: str, port: int, args: Sequence[str]
) -> AsyncIterator[tuple[str, int]]:
    """Run a libcoap server on ``port`` (DTLS on ``port + 1``) until it answers plain CoAP."""
    process = subprocess.Popen(
        [program, "-A", "127.0.0.1", "-p", str(port), "-v", "0", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    probe = await CoapEndpoint.bind("127.0.0.1")
    try:
        for _ in range(40):  # bounded: the server needs a moment to open its sockets
            try:
                ping = Message(code=Code.GET, uri_path=[".well-known", "core"])
                await probe.request(ping, ("127.0.0.1", port), timeout=0.25)
                break
            except CoapTimeout:
                assert process.poll() is None, f"{program} exited"
        else:
            pytest.fail(f"{program} did not answer")
        yield ("127.0.0.1", port + 1)
    finally:
        probe.close()
        process.terminate()
        await asyncio.to_thread(process.wait, 5)


async def first_event(device: Device, kind: type[ClientEvent]) -> asyncio.Future[ClientEvent]:
    """A future for the first ``kind`` event ``device`` emits from now on."""
    future: asyncio.Future[ClientEvent] = asyncio.get_running_loop().create_future()

    def listen(event: ClientEvent) -> None:
        if isinstance(event, kind) and not future.done():
            future.set_result(event)

    device.add_listener(listen)
    return future


LIBCOAP_SERVERS = [
    name for name in ("coap-server-openssl", "coap-server-gnutls") if shutil.which(name)
]
"""The libcoap DTLS servers on PATH (Debian libcoap3-bin, scripts/install-tools.sh)."""


def libcoap_marks(gate: pytest.MarkDecorator) -> list[pytest.MarkDecorator]:
    """The marks of a module of libcoap interop tests: asyncio, interop, ``gate`` (the
    extra it needs) and a skip when no libcoap server is installed."""
    return [
        pytest.mark.asyncio,
        pytest.mark.interop,
        gate,
        pytest.mark.skipif(
            not LIBCOAP_SERVERS,
            reason="coap-server-openssl/-gnutls not on PATH: scripts/install-tools.sh",
        ),
    ]


async def get_well_known(client: Any, remote: tuple[str, int]) -> None:
    """Over ``client``'s new session (a DTLS-PSK or certificate client): the handshake took
    a measured time, and libcoap answers a GET of /.well-known/core with its resource list."""
    assert 0.0 < client.handshake_seconds < 5.0
    request = Message(code=Code.GET, uri_path=[".well-known", "core"])
    response = await client.endpoint.request(request, remote, timeout=5.0)
    assert response.code == Code.CONTENT
    assert b"</>" in response.payload  # libcoap's own resource list


async def registers_over_its_session(config: DeviceConfig, remote: tuple[str, int]) -> None:
    """A device of ``config`` handshakes with the libcoap server at ``remote`` (a Handshake
    event) and sends its Register over the session: libcoap, no LwM2M server, answers 4.04."""
    device = Device(config)
    handshake = await first_event(device, Handshake)
    failed = await first_event(device, RegistrationFailed)
    try:
        await asyncio.wait_for(device.start(), 10.0)
        done = await asyncio.wait_for(handshake, 10.0)
        assert isinstance(done, Handshake) and done.ok and done.remote == remote
        refused = await asyncio.wait_for(failed, 10.0)
        assert isinstance(refused, RegistrationFailed) and "4.04" in refused.reason
    finally:
        await asyncio.wait_for(device.stop(deregister=False), 10.0)


async def failed_handshake(config: DeviceConfig) -> Handshake:
    """Start a device of ``config`` whose handshake must fail: its failed Handshake event
    (the device is left without an endpoint, then stopped)."""
    device = Device(config)
    handshake = await first_event(device, Handshake)
    try:
        await asyncio.wait_for(device.start(), 10.0)
        event = await asyncio.wait_for(handshake, 10.0)
        assert isinstance(event, Handshake) and not event.ok
        assert device.endpoint is None
        return event
    finally:
        await asyncio.wait_for(device.stop(deregister=False), 10.0)
