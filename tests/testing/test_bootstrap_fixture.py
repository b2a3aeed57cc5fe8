"""The ``lwm2m_bootstrap_server`` fixture: a device bootstraps in a user's test (pytester)."""

from __future__ import annotations

from tests.testing.conftest import Run

BOOTSTRAP_TESTS = """
import asyncio
import pytest
from fleet.client import Device, DeviceConfig
from fleet.server import EventKind

@pytest.mark.asyncio
async def test_bootstrap(lwm2m_server, lwm2m_bootstrap_server):
    assert lwm2m_server.bootstrap is lwm2m_bootstrap_server
    finished = lwm2m_bootstrap_server.expect_finish("bs-1")
    device = Device(DeviceConfig("bs-1", bootstrap=lwm2m_bootstrap_server.uri))
    await device.start()
    try:
        await asyncio.wait_for(finished, 10)
        registration = await lwm2m_server.wait_for_registration("bs-1", 10)
        assert registration.endpoint == "bs-1"
        kinds = [e.kind for e in lwm2m_server.recent_events if e.endpoint == "bs-1"]
        assert kinds[0] is EventKind.BOOTSTRAP_REQUEST
    finally:
        await device.stop()
"""


def test_bootstrap_fixture(run: Run) -> None:
    run(BOOTSTRAP_TESTS).assert_outcomes(passed=1)
