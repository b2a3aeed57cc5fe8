"""Shared bits of the DTLS tests: the skip gate (same reason as the package gives), ports,
and a libcoap server (``coap-server-openssl``/``-gnutls``) run for a test."""

from __future__ import annotations

import asyncio
import socket
import subprocess
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import pytest
from aiocoap import Message
from aiocoap.numbers.codes import Code

from fleet.client.coap import CoapEndpoint, CoapTimeout
from fleet.client.coap.dtls import dtls_available
from fleet.client.device import Device
from fleet.client.events import ClientEvent

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
