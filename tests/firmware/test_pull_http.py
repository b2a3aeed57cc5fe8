"""Pull over http:// and https:// from file servers we did not write: the standard
library's ``python -m http.server`` (plain, and behind TLS with a self-signed certificate)
and aiohttp's static route; the downloaded bytes' SHA-256 is checked against the package
header, the link speed sets the duration, a cut connection resumes with a Range request
where the server supports it and starts over where it does not."""

from __future__ import annotations

import asyncio
import pathlib

import pytest

from fleet.client.device import Device
from fleet.client.firmware.events import FirmwareDownloaded
from fleet.client.firmware.http import range_request, resumes_at
from fleet.client.firmware.settings import FirmwareSettings
from fleet.clock import ManualClock
from fleet.device.firmware.package import build_package
from fleet.server import Lwm2mServer

from .conftest import DeviceFactory, EventLog
from .httpd import CuttingProxy, aiohttp_static, http_server, https_server, self_signed

pytestmark = [pytest.mark.asyncio, pytest.mark.interop]

IMAGE = bytes((i * 13) % 251 for i in range(48 * 1024 + 77))
PACKAGE = build_package(IMAGE, name="http-fw", version="5.1.0")
BASE = FirmwareSettings(storage=256 * 1024, retry_delay=0.0, retries=2)


def resumed_from(request: bytes) -> int:
    """N of the ``Range: bytes=N-`` header the device sent (0 without one)."""
    for line in request.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.strip().lower() == "range":
            return int(value.strip().removeprefix("bytes=").split("-")[0])
    return 0  # nothing had arrived before the cut (aiohttp drops a buffer it has not handed out)


def folder_with_packages(tmp_path: pathlib.Path) -> pathlib.Path:
    folder = tmp_path / "www"
    folder.mkdir()
    (folder / "fw.pkg").write_bytes(PACKAGE)
    (folder / "broken.pkg").write_bytes(PACKAGE[:-5] + b"XXXXX")
    return folder


async def pull(
    server: Lwm2mServer,
    make_device: DeviceFactory,
    uri: str,
    name: str,
    settings: FirmwareSettings = BASE,
) -> tuple[Device, FirmwareDownloaded]:
    device = await make_device(name, firmware=settings)
    log = EventLog(device)
    assert (await server.write(name, "/5/0/1", uri)).code == "2.04"
    return device, await log.next(FirmwareDownloaded, 30.0)


async def test_http_from_the_standard_library_server(
    server: Lwm2mServer, make_device: DeviceFactory, tmp_path: pathlib.Path
) -> None:
    async with http_server(folder_with_packages(tmp_path)) as port:
        base = f"http://127.0.0.1:{port}"
        device, good = await pull(server, make_device, f"{base}/fw.pkg", "h1")
        assert (good.result, good.size, good.losses) == (0, len(PACKAGE), 0)
        assert device.tree.value("/5/0/3") == 2
        package = device.firmware.package
        assert package is not None and (package.name, package.version) == ("http-fw", "5.1.0")
        _, bad = await pull(server, make_device, f"{base}/broken.pkg", "h2")
        assert (bad.result, bad.size) == (5, len(PACKAGE))
        device, missing = await pull(server, make_device, f"{base}/nope.pkg", "h3")
        assert missing.result == 7 and device.tree.value("/5/0/5") == 7


async def test_link_speed_sets_the_http_duration(
    clock: ManualClock, server: Lwm2mServer, make_device: DeviceFactory, tmp_path: pathlib.Path
) -> None:
    speed = 8192.0
    async with http_server(folder_with_packages(tmp_path)) as port:
        device = await make_device("h4", firmware=FirmwareSettings(link_speed=speed))
        log = EventLog(device)
        began = clock.now()
        uri = f"http://127.0.0.1:{port}/fw.pkg"
        assert (await server.write("h4", "/5/0/1", uri)).code == "2.04"
        waiting = asyncio.ensure_future(log.next(FirmwareDownloaded, 30.0))
        for _ in range(200_000):  # bounded; the clock moves only to the link's next deadline
            if waiting.done():
                break
            due = clock.next_deadline()
            if due is not None and due - clock.now() <= 1.0:  # a link-speed wait, not a timeout
                await clock.advance(due - clock.now())
            else:
                await asyncio.sleep(0)  # bytes on their way over loopback
        done = await waiting
    assert (done.result, done.size) == (0, len(PACKAGE))
    expected = len(PACKAGE) / speed  # about 6 s on the clock
    assert expected - 0.2 <= clock.now() - began <= expected + 0.2
    assert expected - 0.2 <= done.duration <= expected + 0.2


@pytest.mark.parametrize("ranges", [True, False], ids=["aiohttp-206", "http.server-200"])
async def test_a_cut_connection_resumes_or_starts_over(
    server: Lwm2mServer, make_device: DeviceFactory, tmp_path: pathlib.Path, ranges: bool
) -> None:
    """aiohttp's static route answers the Range request 206 (the rest only); the standard
    library's server ignores it (200, the whole body): the check starts over."""
    upstream_server = aiohttp_static if ranges else http_server
    async with (
        upstream_server(folder_with_packages(tmp_path)) as upstream,
        CuttingProxy(upstream, cut_after=20_000) as proxy,
    ):
        uri = f"http://127.0.0.1:{proxy.port}/fw.pkg"
        device, done = await pull(server, make_device, uri, "h5")
    assert (done.result, done.size, done.losses) == (0, len(PACKAGE), 1)
    assert device.firmware.package is not None
    assert len(proxy.requests) == 2
    start = resumed_from(proxy.requests[1])
    assert 0 <= start < 20_000  # asked for what had not arrived before the cut
    if ranges:  # the 206 carried the rest of the body and its head, not all of it
        assert len(PACKAGE) - start < proxy.carried[1] < len(PACKAGE) - start + 1024
    else:
        assert proxy.carried[1] > len(PACKAGE)


async def test_a_cut_link_without_retries_is_result_4(
    server: Lwm2mServer, make_device: DeviceFactory, tmp_path: pathlib.Path
) -> None:
    async with (
        aiohttp_static(folder_with_packages(tmp_path)) as upstream,
        CuttingProxy(upstream, cut_after=20_000) as proxy,
    ):
        uri = f"http://127.0.0.1:{proxy.port}/fw.pkg"
        settings = FirmwareSettings(on_loss="fail")
        device, done = await pull(server, make_device, uri, "h7", settings)
    assert (done.result, done.losses) == (4, 1)
    assert device.tree.value("/5/0/5") == 4 and device.tree.value("/5/0/3") == 0


async def test_https_with_a_self_signed_certificate(
    server: Lwm2mServer, make_device: DeviceFactory, tmp_path: pathlib.Path
) -> None:
    pytest.importorskip("cryptography", reason="the x509 extra (scripts/install-tools.sh)")
    cert, key = self_signed(tmp_path)
    async with https_server(folder_with_packages(tmp_path), cert, key) as port:
        uri = f"https://127.0.0.1:{port}/fw.pkg"
        trusting = FirmwareSettings(https_ca=str(cert))
        device, good = await pull(server, make_device, uri, "s1", trusting)
        assert (good.result, good.size) == (0, len(PACKAGE))
        package = device.firmware.package
        assert package is not None and package.version == "5.1.0"
        _, bad = await pull(
            server, make_device, uri.replace("fw.pkg", "broken.pkg"), "s2", trusting
        )
        assert bad.result == 5
        # the system's trust store does not know our certificate: 4 at once, no retries
        _, refused = await pull(server, make_device, uri, "s3", BASE)
        assert (refused.result, refused.losses, refused.size) == (4, 0, 0)


async def test_range_headers() -> None:
    assert range_request(0, '"e1"') == {}
    assert range_request(100, '"e1"') == {"Range": "bytes=100-", "If-Range": '"e1"'}
    assert range_request(100, None) == {"Range": "bytes=100-"}
    assert resumes_at(206, "bytes 100-999/1000", 100)
    assert not resumes_at(206, "bytes 0-999/1000", 100)  # not where we asked
    assert not resumes_at(200, None, 100)  # the whole body again
    assert not resumes_at(206, "items 100-999/1000", 100)
