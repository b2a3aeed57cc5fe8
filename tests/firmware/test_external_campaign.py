"""Campaigns of the embedded server pointed at file servers we did not write.

The image sits on aiocoap's ``aiocoap-fileserver`` (Block2; the Python API's ``uri=``),
libcoap's ``coap-server-notls`` (the console's ``FOTA * FILE --uri URI``); the standard
library's ``python -m http.server`` with the pytest plugin's ``lwm2m_campaign(..., uri=)``
is in tests/testing/test_campaign_fixture.py. A
handful of devices download it from there, check its SHA-256 against the package header (a
copy with a flipped byte on the same server fails with 5 for the device sent to it), update,
reboot and come back with the new ``/3/0/3``, on the device, in the server's read-back, in
the platform's device info and in a READ response message.
"""

from __future__ import annotations

import asyncio
import pathlib
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.firmware.settings import FirmwareSettings
from fleet.device.firmware.package import build_package
from fleet.server import Lwm2mServer
from fleet.server.campaign import Campaign, CampaignOptions
from fleet.server.platform.console import Console
from fleet.server.platform.devices import device_info
from tests.platform.conftest import Recorder

from .conftest import FIRMWARE_LAYOUT
from .test_interop_fileservers import (
    FILESERVER,
    LIBCOAP_CLIENT,
    LIBCOAP_SERVER,
    free_udp_port,
    process,
    until_serving,
)

pytestmark = [pytest.mark.asyncio, pytest.mark.interop]

IMAGE = bytes((i * 13) % 253 for i in range(24 * 1024 + 77))
PACKAGE = build_package(IMAGE, name="ext-fw", version="7.1.0")
BROKEN = PACKAGE[:-3] + bytes(b ^ 0x5A for b in PACKAGE[-3:])
SOUND = FirmwareSettings(update_duration=0.0, reboot_delay=0.05, retry_delay=0.0)
OPTIONS = CampaignOptions(download_timeout=30.0, update_timeout=30.0, request_timeout=10.0)
DEVICES = 5


@pytest_asyncio.fixture
async def server() -> AsyncIterator[Lwm2mServer]:
    async with await Lwm2mServer.start(read_on_register=("/3",), request_timeout=10.0) as s:
        yield s


@pytest_asyncio.fixture
async def fleet(server: Lwm2mServer) -> AsyncIterator[list[Device]]:
    devices = [
        Device(DeviceConfig(f"ext-{i}", server=server.uri, layout=FIRMWARE_LAYOUT, firmware=SOUND))
        for i in range(DEVICES)
    ]
    await asyncio.gather(*(d.start() for d in devices))
    await asyncio.gather(
        *(server.wait_for_registration(d.name, timeout=30, hooks=True) for d in devices)
    )
    yield devices
    await asyncio.gather(*(d.stop(deregister=False) for d in devices))


def assert_updated(server: Lwm2mServer, device: Device, campaign: Campaign) -> None:
    outcome = campaign.outcomes[device.name]
    assert (outcome.kind, outcome.result, outcome.version) == ("updated", 1, "7.1.0"), outcome
    assert device.tree.value("/3/0/3") == "7.1.0"
    assert device.tree.value("/5/0/7") == "7.1.0" and device.tree.value("/5/0/6") == "ext-fw"
    record = server.device(device.name)
    assert record is not None and device_info(record)["deviceInfo"]["fwVersion"] == "7.1.0"


@pytest.mark.skipif(not pathlib.Path(FILESERVER).exists(), reason="aiocoap-fileserver missing")
async def test_python_campaign_from_aiocoap_fileserver(
    server: Lwm2mServer, fleet: list[Device], tmp_path: pathlib.Path
) -> None:
    (tmp_path / "fw.bin").write_bytes(PACKAGE)
    (tmp_path / "broken.bin").write_bytes(BROKEN)
    port = free_udp_port()
    async with process(FILESERVER, "--bind", f"127.0.0.1:{port}", str(tmp_path)):
        await until_serving(port, ("fw.bin",))
        base = f"coap://127.0.0.1:{port}"
        good = Campaign(server, PACKAGE, uri=f"{base}/fw.bin", options=OPTIONS)
        bad = Campaign(server, PACKAGE, uri=f"{base}/broken.bin", options=OPTIONS)
        sound, broken = fleet[:-1], fleet[-1]
        reports = await asyncio.wait_for(
            asyncio.gather(good.run(d.name for d in sound), bad.run([broken.name])), 120
        )
    assert good.uri == f"{base}/fw.bin"  # the campaign served nothing itself
    assert reports[0].by_kind == {"updated": DEVICES - 1} and reports[0].completion == 1.0
    for device in sound:
        assert_updated(server, device, good)
    assert reports[1].by_kind == {"failed": 1} and reports[1].by_result == {5: 1}
    assert broken.tree.value("/3/0/3") == "1.0.0" and broken.tree.value("/5/0/5") == 5


@pytest.mark.skipif(
    LIBCOAP_SERVER is None or LIBCOAP_CLIENT is None,
    reason="coap-server-notls / coap-client-notls not on PATH: run scripts/install-tools.sh",
)
async def test_console_campaign_from_libcoap_server(
    server: Lwm2mServer, fleet: list[Device], tmp_path: pathlib.Path
) -> None:
    assert LIBCOAP_SERVER is not None and LIBCOAP_CLIENT is not None
    image = tmp_path / "fw.bin"
    image.write_bytes(PACKAGE)
    recorder = Recorder()
    console = Console(server, recorder.emit, say=recorder.said.append, timeout=10.0)
    port = free_udp_port()
    try:
        async with process(LIBCOAP_SERVER, "-A", "127.0.0.1", "-p", str(port), "-d", "4"):
            await until_serving(port, ("fw",))
            uri = f"coap://127.0.0.1:{port}/fw"
            put = await asyncio.create_subprocess_exec(
                LIBCOAP_CLIENT, "-m", "put", "-b", "1024", "-f", str(image), uri
            )
            assert await asyncio.wait_for(put.wait(), 20.0) == 0
            await console.run_line(f"FOTA * {image} --uri {uri}")
            started = [s for s in recorder.said if isinstance(s, dict)][-1]
            assert (started["started"], started["uri"], started["mode"]) == (DEVICES, uri, "pull")
            await asyncio.wait_for(console.run_line("FOTA-STATUS --wait"), 120)
        status = [s for s in recorder.said if isinstance(s, dict)][-1]
        assert status["outcomes"] == {"updated": DEVICES}
        assert status["update_results"] == {"1": DEVICES}
        campaign = console_campaign(console)
        for device in fleet:
            assert_updated(server, device, campaign)
        (answer,) = await console.run_line(f"{fleet[0].name} READ /3/0/3")
        assert answer["content"]["data"] == {"3/0/3": "7.1.0"}
        again = [m for m in recorder.of_type("registration") if m["content"]["nodeResourceName"]]
        assert len(again) >= DEVICES  # each came back (the Register after its reboot)
    finally:
        console.close()


def console_campaign(console: Console) -> Campaign:
    desk = console.fota
    assert desk is not None and len(desk.campaigns) == 1
    return desk.campaigns[0]
