"""The ``lwm2m_campaign`` fixture: a firmware campaign in a user's test, through pytester."""

from __future__ import annotations

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
