"""Interop: the device pulls its package over coap:// Block2 from file servers we did not
write — aiocoap's ``aiocoap-fileserver`` and libcoap's ``coap-server-notls`` — and checks the
downloaded bytes' SHA-256 against the package header (a flipped byte is an integrity failure)."""

from __future__ import annotations

import asyncio
import contextlib
import pathlib
import shutil
import socket
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest

from fleet.client.coap import CoapEndpoint, CoapTimeout
from fleet.client.coap.wire import Message
from fleet.client.device import Device
from fleet.client.firmware.events import FirmwareDownloaded
from fleet.client.firmware.settings import FirmwareSettings
from fleet.clock import LoopClock
from fleet.device.firmware.package import build_package
from fleet.server import Lwm2mServer

from .conftest import DeviceFactory, EventLog

FILESERVER = shutil.which("aiocoap-fileserver") or str(
    pathlib.Path(sys.executable).with_name("aiocoap-fileserver")
)
LIBCOAP_SERVER = shutil.which("coap-server-notls")
LIBCOAP_CLIENT = shutil.which("coap-client-notls")
IMAGE = bytes((i * 7) % 251 for i in range(64 * 1024 + 300))
PACKAGE = build_package(IMAGE, name="interop-fw", version="4.2.0")

pytestmark = [pytest.mark.asyncio, pytest.mark.interop]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def process(*args: str) -> AsyncIterator[asyncio.subprocess.Process]:
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.terminate()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(proc.wait(), 5.0)
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


async def until_serving(port: int, path: tuple[str, ...]) -> None:
    """Wait (bounded) until the peer we started answers a GET: it gives no other sign."""
    probe = await CoapEndpoint.bind("127.0.0.1", 0, clock=LoopClock())
    try:
        for _ in range(100):
            request = Message(code=1)
            request.opt.uri_path = path
            with contextlib.suppress(CoapTimeout):
                await probe.request(request, ("127.0.0.1", port), timeout=0.2, reassemble=False)
                return
        raise AssertionError(f"nothing answers on port {port}")
    finally:
        probe.close()


async def download(
    server: Lwm2mServer, make_device: DeviceFactory, uri: str, name: str
) -> tuple[Device, FirmwareDownloaded]:
    device = await make_device(name, firmware=FirmwareSettings(storage=256 * 1024))
    log = EventLog(device)
    assert (await server.write(name, "/5/0/1", uri)).code == "2.04"
    return device, await log.next(FirmwareDownloaded, 30.0)


@pytest.mark.skipif(not pathlib.Path(FILESERVER).exists(), reason="aiocoap-fileserver missing")
async def test_pull_from_aiocoap_fileserver(
    server: Lwm2mServer, make_device: DeviceFactory, tmp_path: pathlib.Path
) -> None:
    (tmp_path / "fw.bin").write_bytes(PACKAGE)
    (tmp_path / "broken.bin").write_bytes(PACKAGE[:-5] + b"XXXXX")
    port = free_udp_port()
    async with process(FILESERVER, "--bind", f"127.0.0.1:{port}", str(tmp_path)):
        await until_serving(port, ("fw.bin",))
        base = f"coap://127.0.0.1:{port}"
        device, good = await download(server, make_device, f"{base}/fw.bin", "fs1")
        assert (good.result, good.size) == (0, len(PACKAGE))
        assert device.tree.value("/5/0/3") == 2
        package = device.firmware.package
        assert package is not None and package.version == "4.2.0"
        _, bad = await download(server, make_device, f"{base}/broken.bin", "fs2")
        assert (bad.result, bad.size) == (5, len(PACKAGE))
        _, missing = await download(server, make_device, f"{base}/nope", "fs3")
        assert missing.result == 7


@pytest.mark.skipif(
    LIBCOAP_SERVER is None or LIBCOAP_CLIENT is None,
    reason="coap-server-notls / coap-client-notls not on PATH: run scripts/install-tools.sh",
)
async def test_pull_from_libcoap_server(
    server: Lwm2mServer, make_device: DeviceFactory, tmp_path: pathlib.Path
) -> None:
    assert LIBCOAP_SERVER is not None and LIBCOAP_CLIENT is not None
    image = tmp_path / "fw.bin"
    image.write_bytes(PACKAGE)
    port = free_udp_port()
    async with process(LIBCOAP_SERVER, "-A", "127.0.0.1", "-p", str(port), "-d", "4"):
        await until_serving(port, ("fw",))
        base = f"coap://127.0.0.1:{port}"
        put = await asyncio.create_subprocess_exec(
            LIBCOAP_CLIENT, "-m", "put", "-b", "1024", "-f", str(image), f"{base}/fw"
        )
        assert await asyncio.wait_for(put.wait(), 20.0) == 0
        broken = tmp_path / "broken.bin"
        broken.write_bytes(PACKAGE[:-5] + b"XXXXX")
        put = await asyncio.create_subprocess_exec(
            LIBCOAP_CLIENT, "-m", "put", "-b", "1024", "-f", str(broken), f"{base}/broken"
        )
        assert await asyncio.wait_for(put.wait(), 20.0) == 0
        device, done = await download(server, make_device, f"{base}/fw", "lc1")
        assert (done.result, done.size) == (0, len(PACKAGE))
        package = device.firmware.package
        assert package is not None and package.name == "interop-fw"
        _, bad = await download(server, make_device, f"{base}/broken", "lc2")
        assert (bad.result, bad.size) == (5, len(PACKAGE))  # the hash of what libcoap served
