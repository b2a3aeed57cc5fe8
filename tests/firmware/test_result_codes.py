"""Update Result 7 and 8 mean what the Object 5 definition says, not what issue #16's text says.

The issue writes that a malformed URI answers 8. The definition (the OMA registry's 5.xml,
resource 5 Update Result, in ``../shared/oma-registry``; our ``objects/5.xml`` says the same)
lists ``7: Invalid URI.`` and ``8: Firmware update failed.``: a malformed Package URI is 7,
and 8 is an update that ran and failed. This test reads both texts, then has a device over UDP
answer a malformed URI with 7 (read back by the server from ``/5/0/5``) and a failed update
with 8 (the ``fail-update`` fault), so the meaning cannot drift from the definition's.
"""

from __future__ import annotations

import pathlib
import re
import xml.etree.ElementTree as ET

import pytest

from fleet.client.firmware.events import FirmwareDownloaded, FirmwareUpdated
from fleet.client.firmware.settings import FirmwareFault, FirmwareSettings
from fleet.clock import ManualClock
from fleet.device.firmware.machine import UpdateResult
from fleet.device.firmware.package import build_package
from fleet.server import Lwm2mServer
from fleet.server.campaign.files import FileServer

from .conftest import DeviceFactory, EventLog

ROOT = pathlib.Path(__file__).resolve().parents[2]
REGISTRY_5 = ROOT.parent / "shared" / "oma-registry" / "5.xml"
OURS_5 = ROOT / "objects" / "5.xml"
PACKAGE = build_package(b"fw" * 2000, name="fleet-fw", version="2.0.0")


def result_text(path: pathlib.Path) -> str:
    item = ET.parse(path).getroot().find("./Object/Resources/Item[@ID='5']")
    assert item is not None
    return item.findtext("Description") or ""


def test_the_definitions_say_7_invalid_uri_and_8_update_failed() -> None:
    if not REGISTRY_5.exists():
        pytest.skip("the OMA registry copy is not there")
    oma = result_text(REGISTRY_5)
    seven = re.search(r"^7: (.*)$", oma, re.MULTILINE)
    eight = re.search(r"^8: (.*)$", oma, re.MULTILINE)
    assert seven is not None and seven.group(1).strip() == "Invalid URI."
    assert eight is not None and eight.group(1).strip() == "Firmware update failed."
    ours = result_text(OURS_5)
    assert "7 invalid URI" in ours and "8 firmware update failed" in ours
    assert UpdateResult(7) is UpdateResult.INVALID_URI
    assert UpdateResult(8) is UpdateResult.UPDATE_FAILED


@pytest.mark.asyncio
@pytest.mark.parametrize("uri", ["coap://[::1/fw", "http//nothing", "coap:///fw"])
async def test_a_malformed_uri_is_7_not_8(
    server: Lwm2mServer, make_device: DeviceFactory, uri: str
) -> None:
    device = await make_device("uri-1")
    log = EventLog(device)
    assert (await server.write("uri-1", "/5/0/1", uri)).code == "2.04"
    assert (await log.next(FirmwareDownloaded)).result == 7
    assert (await server.read("uri-1", "/5/0/5")).value == 7  # over UDP, as a server sees it
    assert (await server.read("uri-1", "/5/0/3")).value == 0  # back to Idle


@pytest.mark.asyncio
async def test_a_failed_update_is_8(
    clock: ManualClock, server: Lwm2mServer, files: FileServer, make_device: DeviceFactory
) -> None:
    settings = FirmwareSettings(update_duration=1.0, fault=FirmwareFault("fail-update"))
    device = await make_device("upd-1", firmware=settings)
    log = EventLog(device)
    assert (await server.write("upd-1", "/5/0/1", files.add("fw.bin", PACKAGE))).code == "2.04"
    assert (await log.next(FirmwareDownloaded)).result == 0
    assert (await server.execute("upd-1", "/5/0/2")).code == "2.04"
    updated = log.next(FirmwareUpdated)
    await clock.advance(1.0)
    assert (await updated).result == 8
    assert (await server.read("upd-1", "/5/0/5")).value == 8
    assert (await server.read("upd-1", "/5/0/3")).value == 2  # the package kept: Downloaded
