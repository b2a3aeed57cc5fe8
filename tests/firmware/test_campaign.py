"""End-to-end campaigns against the embedded server: every device's outcome is the one its
firmware settings prescribe, counted exactly, and every updated device shows the new version
on /3/0/3 and in the platform-shaped messages: the platform console's ``* READ /3/0/3``
response messages (``data: {"3/0/3": "2.0.0"}``), its device info (``fwVersion``), and a
``registration`` message for the Register after the reboot."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace

import pytest
import pytest_asyncio

from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.firmware.settings import FirmwareFault, FirmwareSettings
from fleet.device.firmware.package import build_package
from fleet.server import Lwm2mServer
from fleet.server.campaign import Campaign, CampaignOptions
from fleet.server.platform.console import Console
from fleet.server.platform.devices import device_info
from fleet.server.platform.messages import Message

from .conftest import FIRMWARE_LAYOUT

pytestmark = pytest.mark.asyncio

PACKAGE = build_package(bytes(range(256)) * 16, name="fleet-fw", version="2.0.0")  # 4 KiB
SOUND = FirmwareSettings(update_duration=0.0, reboot_delay=0.05, retry_delay=0.0, retries=1)
FAULTS = {
    "integrity": FirmwareFault("integrity"),
    "hang": FirmwareFault("hang"),
    "lose": FirmwareFault("lose", at=0.5),
    "reject": FirmwareFault("reject"),
    "brick": FirmwareFault("brick"),
    "fail-update": FirmwareFault("fail-update"),
}
EXPECTED_KIND = {
    "integrity": ("failed", 5),
    "hang": ("stalled", 0),
    "lose": ("failed", 4),
    "reject": ("failed", 6),
    "brick": ("no-return", 0),
    "fail-update": ("failed", 8),
    None: ("updated", 1),
}
OPTIONS = CampaignOptions(download_timeout=5.0, update_timeout=6.0, request_timeout=10.0)
"""Hangs and bricks are noticed by these timeouts; generous for a loaded machine."""


def prescribed(count: int) -> Callable[[int], str | None]:
    """Index -> fault: 2 % integrity, 1 % hangs, then one of each other fault."""
    integrity = max(1, count * 2 // 100)
    hangs = max(1, count // 100)
    plan: list[str] = ["integrity"] * integrity + ["hang"] * hangs
    plan += ["lose", "reject", "brick", "fail-update"]
    return lambda index: plan[index] if index < len(plan) else None


@pytest_asyncio.fixture
async def server() -> AsyncIterator[Lwm2mServer]:
    async with await Lwm2mServer.start(read_on_register=("/3",), request_timeout=5.0) as started:
        yield started


async def start_fleet(
    server: Lwm2mServer, count: int, fault_of: Callable[[int], str | None]
) -> list[Device]:
    devices = []
    for index in range(count):
        fault = fault_of(index)
        settings = SOUND if fault is None else _with_fault(FAULTS[fault])
        config = DeviceConfig(
            f"fota-{index:05d}", server=server.uri, layout=FIRMWARE_LAYOUT, firmware=settings
        )
        devices.append(Device(config))
    await asyncio.gather(*(d.start() for d in devices))
    await asyncio.wait_for(asyncio.gather(*(d.registered.wait() for d in devices)), 60)
    await asyncio.gather(
        *(server.wait_for_registration(d.name, timeout=60, hooks=True) for d in devices)
    )
    return devices


def _with_fault(fault: FirmwareFault) -> FirmwareSettings:
    return replace(SOUND, fault=fault)


async def stop_fleet(devices: list[Device]) -> None:
    await asyncio.gather(*(d.stop(deregister=False) for d in devices))


async def run_campaign(
    server: Lwm2mServer, count: int, *, push: bool = False, download_timeout: float = 5.0
) -> None:
    fault_of = prescribed(count)
    devices = await start_fleet(server, count, fault_of)
    messages: list[Message] = []
    said: list[object] = []
    console = Console(server, messages.append, say=said.append, timeout=5.0)
    try:
        options = replace(OPTIONS, push=push, download_timeout=download_timeout)
        campaign = Campaign(server, PACKAGE, options=options)
        report = await asyncio.wait_for(campaign.run(d.name for d in devices), 120)
        expected: dict[str, int] = {}
        for index, device in enumerate(devices):
            fault = fault_of(index)
            kind, result = EXPECTED_KIND[fault]
            outcome = campaign.outcomes[device.name]
            assert (outcome.kind, outcome.result or 0) == (kind, result), (device.name, outcome)
            expected[kind] = expected.get(kind, 0) + 1
            if kind == "updated":
                assert device.tree.value("/3/0/3") == "2.0.0"
                assert outcome.version == "2.0.0"
                record = server.device(device.name)
                assert record is not None
                assert device_info(record)["deviceInfo"]["fwVersion"] == "2.0.0"
            else:
                assert device.tree.value("/3/0/3") == "1.0.0"
        assert report.by_kind == {k: v for k, v in expected.items() if v}
        assert report.completion == 1.0 and report.total == count
        assert report.by_result.get(1) == expected["updated"]
        assert report.by_result.get(5) == max(1, count * 2 // 100)
        assert len(report.download_durations) == expected["updated"] + 2  # + brick, fail-update
        await platform_view(console, messages, said, devices, campaign)
    finally:
        console.close()
        await stop_fleet(devices)


async def platform_view(
    console: Console,
    messages: list[Message],
    said: list[object],
    devices: list[Device],
    campaign: Campaign,
) -> None:
    """What a platform sees of the campaign, in its own message shapes."""
    updated = {n for n, o in campaign.outcomes.items() if o.kind == "updated"}
    bricked = {n for n, o in campaign.outcomes.items() if o.kind == "no-return"}
    answers = await console.run_line("* READ /3/0/3")
    versions = {
        m["content"]["nodeResourceName"]: (m["content"]["data"] or {}).get("3/0/3")
        for m in answers
        if m["content"]["messageType"] == "response"
    }
    assert {n for n, v in versions.items() if v == "2.0.0"} == updated
    assert {n for n, v in versions.items() if v == "1.0.0"} == (
        {d.name for d in devices} - updated - bricked
    )
    for name in sorted(updated):
        await console.run_line(f"INFO {name}")
        info = said[-1]
        assert isinstance(info, dict) and info["deviceInfo"]["fwVersion"] == "2.0.0", info
    registered_again = {
        m["content"]["nodeResourceName"]
        for m in messages
        if m["content"]["messageType"] == "registration"
    }
    assert updated <= registered_again  # each came back after its reboot


async def test_campaign_pull_100_devices(server: Lwm2mServer) -> None:
    await run_campaign(server, 100)


async def test_campaign_push_50_devices(server: Lwm2mServer) -> None:
    await run_campaign(server, 50, push=True)


@pytest.mark.slow
async def test_campaign_pull_1000_devices(server: Lwm2mServer) -> None:
    await run_campaign(server, 1000, download_timeout=15.0)
