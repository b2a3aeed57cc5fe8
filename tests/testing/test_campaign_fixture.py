"""The ``lwm2m_campaign`` fixture: a firmware campaign in a user's test, through pytester; its
``uri=`` pointing the devices at ``python -m http.server`` (a file server we did not write)
serving the image and a copy with a broken byte (the device's hash check: 5)."""

from __future__ import annotations

import pytest

from tests.testing.conftest import Run

CAMPAIGN_TESTS = """
import pytest
from fleet.client.firmware.settings import FirmwareFault, FirmwareSettings
from fleet.device.firmware.package import build_package

OBJECTS = {0: [0], 1: [0], 3: [0], 5: [0]}
FAST = FirmwareSettings(update_duration=0.0, reboot_delay=0.05)

@pytest.mark.asyncio
async def test_campaign(lwm2m_device_factory, lwm2m_campaign):
    good = await lwm2m_device_factory("fw-1", objects=OBJECTS, firmware=FAST)
    await lwm2m_device_factory(
        "fw-2", objects=OBJECTS, firmware=FirmwareSettings(fault=FirmwareFault("reject"))
    )
    package = build_package(b"new firmware" * 100, name="app", version="5.0")
    campaign = await lwm2m_campaign(package, ["fw-1", "fw-2"])
    assert campaign.report().by_kind == {"updated": 1, "failed": 1}
    assert campaign.outcomes["fw-2"].result == 6
    assert good.device.tree.value("/3/0/3") == "5.0"
"""


def test_campaign_fixture(run: Run) -> None:
    run(CAMPAIGN_TESTS).assert_outcomes(passed=1)


HTTP_CAMPAIGN_TESTS = """
import asyncio, sys
import pytest
from fleet.client.firmware.settings import FirmwareSettings
from fleet.device.firmware.package import build_package

OBJECTS = {0: [0], 1: [0], 3: [0], 5: [0]}
FAST = FirmwareSettings(update_duration=0.0, reboot_delay=0.05)
PACKAGE = build_package(bytes(range(200)) * 60, name="app", version="5.5")

@pytest.mark.asyncio
async def test_campaign_from_http_server(lwm2m_device_factory, lwm2m_campaign, tmp_path):
    (tmp_path / "fw.bin").write_bytes(PACKAGE)
    (tmp_path / "bad.bin").write_bytes(PACKAGE[:-1] + b"!")
    http = await asyncio.create_subprocess_exec(
        sys.executable, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1",
        "--directory", str(tmp_path), stdout=asyncio.subprocess.PIPE,
    )
    try:
        line = (await asyncio.wait_for(http.stdout.readline(), 20)).decode()
        port = int(line.split(" port ")[1].split()[0])
        devices = [
            await lwm2m_device_factory(f"fw-{i}", objects=OBJECTS, firmware=FAST)
            for i in range(3)
        ]
        base = f"http://127.0.0.1:{port}"
        campaign = await lwm2m_campaign(PACKAGE, ["fw-0", "fw-1"], uri=f"{base}/fw.bin")
        failed = await lwm2m_campaign(PACKAGE, ["fw-2"], uri=f"{base}/bad.bin")
    finally:
        http.terminate()
        await http.wait()
    assert campaign.uri == f"{base}/fw.bin"
    assert campaign.report().by_kind == {"updated": 2}
    assert [d.device.tree.value("/3/0/3") for d in devices] == ["5.5", "5.5", "1.0.0"]
    assert failed.outcomes["fw-2"].result == 5
"""


@pytest.mark.interop
def test_campaign_fixture_pointed_at_an_http_server(run: Run) -> None:
    run(HTTP_CAMPAIGN_TESTS).assert_outcomes(passed=1)
