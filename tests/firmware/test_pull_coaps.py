"""Pull over coaps:// (DTLS 1.2 with a pre-shared key) with Block2 from libcoap's
``coap-server-openssl`` and ``coap-server-gnutls`` (software we did not write), started with
``-k KEY -h IDENTITY``: the device opens a DTLS session of its own to the file server with
the group's ``download_psk`` (else its own server PSK) and checks the downloaded bytes'
SHA-256 against the package header; a wrong key is a lost link (Update Result 4)."""

from __future__ import annotations

import asyncio
import pathlib
import shutil

import pytest

from fleet.client.coap.psk import PskCredentials
from fleet.client.firmware.events import FirmwareDownloaded
from fleet.client.firmware.settings import FirmwareSettings
from fleet.clock import ManualClock
from fleet.device.firmware.package import build_package
from fleet.server import Lwm2mServer
from tests.client.dtls.helpers import free_port_pair, libcoap_server, requires_dtls

from .conftest import DeviceFactory, EventLog

pytestmark = [pytest.mark.asyncio, pytest.mark.interop]

IDENTITY, KEY = "fw-files", "fw-file-server-key"
GOOD = PskCredentials(IDENTITY.encode(), KEY.encode())
IMAGE = bytes((i * 11) % 241 for i in range(40 * 1024 + 5))
PACKAGE = build_package(IMAGE, name="coaps-fw", version="6.0.1")
PUT_CLIENT = shutil.which("coap-client-notls")
SERVERS = [
    pytest.param(
        name, marks=pytest.mark.skipif(shutil.which(name) is None, reason=f"{name} missing")
    )
    for name in ("coap-server-openssl", "coap-server-gnutls")
]


async def put(port: int, path: pathlib.Path, resource: str) -> None:
    """Store the file on the libcoap server over plain CoAP (its resources are shared with
    the DTLS port)."""
    assert PUT_CLIENT is not None
    process = await asyncio.create_subprocess_exec(
        PUT_CLIENT,
        "-m",
        "put",
        "-b",
        "1024",
        "-f",
        str(path),
        f"coap://127.0.0.1:{port}/{resource}",
    )
    assert await asyncio.wait_for(process.wait(), 20.0) == 0


@requires_dtls
@pytest.mark.skipif(PUT_CLIENT is None, reason="coap-client-notls missing")
@pytest.mark.parametrize("program", SERVERS)
async def test_pull_over_coaps_from_libcoap(
    program: str,
    clock: ManualClock,
    server: Lwm2mServer,
    make_device: DeviceFactory,
    tmp_path: pathlib.Path,
) -> None:
    (tmp_path / "fw.pkg").write_bytes(PACKAGE)
    (tmp_path / "broken.pkg").write_bytes(PACKAGE[:-3] + b"ZZZ")
    port = free_port_pair()
    args = ["-d", "4", "-k", KEY, "-h", IDENTITY]
    async with libcoap_server(shutil.which(program) or program, port, args) as (host, secure):
        await put(port, tmp_path / "fw.pkg", "fw")
        await put(port, tmp_path / "broken.pkg", "broken")
        settings = FirmwareSettings(download_psk=GOOD, retries=0, retry_delay=0.0)
        device = await make_device("c1", firmware=settings)
        assert 1 in device.tree.value("/5/0/8").values()  # type: ignore[union-attr]
        log = EventLog(device)
        uri = f"coaps://{host}:{secure}/fw"
        assert (await server.write("c1", "/5/0/1", uri)).code == "2.04"
        done = await log.next(FirmwareDownloaded, 30.0)
        assert (done.result, done.size, done.losses) == (0, len(PACKAGE), 0)
        package = device.firmware.package
        assert package is not None and (package.name, package.version) == ("coaps-fw", "6.0.1")
        # the integrity check sees the bytes that came over DTLS
        device = await make_device("c2", firmware=settings)
        log = EventLog(device)
        assert (
            await server.write("c2", "/5/0/1", f"coaps://{host}:{secure}/broken")
        ).code == "2.04"
        bad = await log.next(FirmwareDownloaded, 30.0)
        assert (bad.result, bad.size) == (5, len(PACKAGE))
        # a wrong key: the handshake never completes (tinydtls hears nothing back) -> 4
        wrong = FirmwareSettings(
            download_psk=PskCredentials(IDENTITY.encode(), b"not-the-key"), retries=0
        )
        device = await make_device("c3", firmware=wrong)
        log = EventLog(device)
        assert (await server.write("c3", "/5/0/1", uri)).code == "2.04"
        waiting = asyncio.ensure_future(log.next(FirmwareDownloaded, 30.0))
        for _ in range(120):  # the handshake timeout (10 s) runs on the device's clock
            if waiting.done():
                break
            await clock.advance(0.25)
        refused = await waiting
        assert (refused.result, refused.size) == (4, 0)
