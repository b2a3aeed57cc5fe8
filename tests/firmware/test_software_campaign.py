"""Object 9 Software Management campaigns and faults: the server's SoftwareCampaign
downloads, installs and activates a package on each device (pull or push), and every
software fault of the seeded framework (hang, integrity, lose, reject, fail-install) ends
with the Object 9 outcome it prescribes; timeouts run on the ManualClock."""

from __future__ import annotations

import asyncio
import pathlib
from dataclasses import replace

import pytest

from fleet.client.device import Device
from fleet.client.firmware.settings import FirmwareConfigError, FirmwareFault, FirmwareSettings
from fleet.clock import ManualClock
from fleet.device.firmware.package import build_package
from fleet.device.firmware.software import (
    SoftwareState,
    SoftwareTrigger,
    software_transition,
)
from fleet.device.layout import DeviceLayout
from fleet.faults import FaultInjector, FaultPlan
from fleet.runner.configs import device_config
from fleet.scenario import load_scenario_text
from fleet.server import Lwm2mServer
from fleet.server.campaign import CampaignOptions
from fleet.server.campaign.console import SOTA_USAGE
from fleet.server.campaign.files import FileServer
from fleet.server.campaign.software import SoftwareCampaign
from fleet.server.platform.console import Console

from .conftest import DeviceFactory

pytestmark = pytest.mark.asyncio

LAYOUT = DeviceLayout.of({0: [0], 1: [0], 3: [0], 9: [0]})
PACKAGE = build_package(b"application" * 700, name="meter-app", version="2.4")
OPTIONS = CampaignOptions(download_timeout=300.0, update_timeout=300.0, request_timeout=30.0)
EXPECTED = {
    "ok": ("updated", 2),
    "hang": ("stalled", 1),
    "integrity": ("failed", 53),
    "lose": ("failed", 52),
    "reject": ("failed", 54),
    "fail-install": ("failed", 58),
}


def settings(kind: str) -> FirmwareSettings:
    fault = None if kind == "ok" else FirmwareFault(kind, 0.5)
    return FirmwareSettings(software_fault=fault, retries=1, retry_delay=1.0)


async def drive(clock: ManualClock, task: asyncio.Future[object], seconds: float) -> None:
    for _ in range(int(seconds)):
        if task.done():
            return
        await clock.advance(1.0)
    assert task.done(), f"not finished within {seconds:g} clock seconds"


@pytest.mark.parametrize("push", [False, True])
async def test_software_campaign_outcomes(
    clock: ManualClock,
    server: Lwm2mServer,
    files: FileServer,
    make_device: DeviceFactory,
    push: bool,
) -> None:
    kinds = [k for k in EXPECTED if not (push and k == "lose")]  # a push has no link to lose
    devices = {k: await make_device(k, layout=LAYOUT, firmware=settings(k)) for k in kinds}
    campaign = SoftwareCampaign(
        server, PACKAGE, files=files, options=OPTIONS if not push else _push(OPTIONS)
    )
    task = asyncio.ensure_future(campaign.run(kinds))
    await drive(clock, task, 400)
    report = task.result()
    for kind in kinds:
        outcome = campaign.outcomes[kind]
        assert (outcome.kind, outcome.result) == EXPECTED[kind], (kind, outcome)
    ok = devices["ok"].tree
    assert (ok.value("/9/0/7"), ok.value("/9/0/12")) == (4, True)  # Installed, active
    assert (ok.value("/9/0/0"), ok.value("/9/0/1")) == ("meter-app", "2.4")
    assert campaign.outcomes["ok"].version == "2.4"
    failed = devices["fail-install"].tree
    assert (failed.value("/9/0/7"), failed.value("/9/0/9"), failed.value("/9/0/12")) == (
        3,
        58,
        False,
    )  # installation failure: the package stays Delivered
    assert devices["integrity"].tree.value("/9/0/7") == 0  # back to Initial
    assert report.by_kind["updated"] == 1 and report.finished == len(kinds)


def _push(options: CampaignOptions) -> CampaignOptions:
    return replace(options, push=True)


async def test_an_installed_package_is_uninstalled_first_and_activate_is_optional(
    clock: ManualClock, server: Lwm2mServer, files: FileServer, make_device: DeviceFactory
) -> None:
    device = await make_device("sw", layout=LAYOUT)
    first = SoftwareCampaign(server, PACKAGE, files=files, options=OPTIONS)
    task = asyncio.ensure_future(first.run(["sw"]))
    await drive(clock, task, 60)
    assert first.outcomes["sw"].kind == "updated"
    newer = build_package(b"application" * 700, name="meter-app", version="2.5")
    second = SoftwareCampaign(
        server, newer, name="app-2.5", files=files, options=OPTIONS, activate=False
    )
    task = asyncio.ensure_future(second.run(["sw"]))
    await drive(clock, task, 60)
    assert (second.outcomes["sw"].kind, second.outcomes["sw"].version) == ("updated", "2.5")
    assert (device.tree.value("/9/0/7"), device.tree.value("/9/0/12")) == (4, False)


async def test_sota_on_the_console(
    clock: ManualClock,
    server: Lwm2mServer,
    make_device: DeviceFactory,
    tmp_path: pathlib.Path,
) -> None:
    await make_device("sw1", layout=LAYOUT)
    await make_device("sw2", layout=LAYOUT, firmware=settings("fail-install"))
    said: list[object] = []
    console = Console(server, lambda message: None, say=said.append)
    image = tmp_path / "app.pkg"
    image.write_bytes(PACKAGE)
    try:
        await console.run_line(f"SOTA * {image}")
        started = [s for s in said if isinstance(s, dict)][-1]
        assert (started["kind"], started["started"], started["version"]) == ("software", 2, "2.4")
        waiting = asyncio.ensure_future(console.run_line("FOTA-STATUS --wait"))
        await drive(clock, waiting, 60)
        status = [s for s in said if isinstance(s, dict)][-1]
        assert status["kind"] == "software"
        assert status["outcomes"] == {"updated": 1, "failed": 1}
        assert status["update_results"] == {"2": 1, "58": 1}
        await console.run_line("SOTA sw1")
        assert SOTA_USAGE.startswith("SOTA ENDPOINT|* FILE [--push | --uri URI] [--version V]")
        await console.run_line(f"SOTA sw1 {image} --instance x")
        assert said[-2:] == [
            SOTA_USAGE,
            "SOTA: --instance takes an instance number, got 'x'",
        ]
    finally:
        console.close()


async def test_software_faults_from_the_scenario_framework() -> None:
    scenario = load_scenario_text(
        """
version: 1
seed: 4
groups:
  - {name: apps, count: 4, endpoint: "a-{index}", objects: {9: [0]}}
faults:
  - {action: software-fail-install, devices: ["0-1"]}
  - {action: firmware-integrity, devices: ["1-2"]}
  - {action: software-lose, at: 0.25, devices: ["3-3"]}
"""
    )
    injector = FaultInjector(FaultPlan(scenario.faults), seed=scenario.seed)
    try:
        found = []
        for index in range(4):
            device = Device(
                device_config(scenario, index, server="coap://127.0.0.1:5683"), clock=ManualClock()
            )
            injector.install(device, index)
            firmware = device.firmware.settings
            software = firmware.software_fault
            found.append(
                (
                    None if software is None else (software.kind, software.at),
                    None if firmware.fault is None else firmware.fault.kind,
                )
            )
            assert device.firmware.software.settings is firmware
        assert found == [
            (("fail-install", 0.5), None),
            (("fail-install", 0.5), "integrity"),  # one fault of each object per device
            (None, "integrity"),
            (("lose", 0.25), None),
        ]
        assert injector.counter.total == 5
    finally:
        injector.close()


async def test_install_failure_goes_back_to_delivered() -> None:
    step = software_transition(SoftwareState.INSTALLED, SoftwareTrigger.INSTALL_FAILED)
    assert (step.state, int(step.result or 0), step.active) == (SoftwareState.DELIVERED, 58, False)
    with pytest.raises(FirmwareConfigError, match="fail-install is an Object 9"):
        FirmwareSettings(fault=FirmwareFault("fail-install"))
    with pytest.raises(FirmwareConfigError, match="brick is not an Object 9"):
        FirmwareSettings(software_fault=FirmwareFault("brick"))
