"""A campaign's timeouts run on the controllable clock: with a ManualClock, a hang is
``stalled`` after ``download_timeout`` clock seconds and a brick ``no-return`` after
``update_timeout``, while a sound device updates — no real second of those waits passes."""

from __future__ import annotations

import asyncio
import time

import pytest

from fleet.client.firmware.settings import FirmwareFault, FirmwareSettings
from fleet.clock import ManualClock, wait_for
from fleet.device.firmware.package import build_package
from fleet.server import Lwm2mServer
from fleet.server.campaign import Campaign, CampaignOptions
from fleet.server.campaign.files import FileServer

from .conftest import WAIT, DeviceFactory

pytestmark = pytest.mark.asyncio

PACKAGE = build_package(bytes(range(256)) * 8, name="fleet-fw", version="3.0.0")
SOUND = FirmwareSettings(update_duration=2.0, reboot_delay=1.0)
DOWNLOAD_TIMEOUT, UPDATE_TIMEOUT = 600.0, 900.0


async def drive(clock: ManualClock, task: asyncio.Future[object], seconds: float) -> None:
    """Advance ``clock`` one second at a time (each step lets the network settle) until
    ``task`` is done, at most ``seconds`` clock seconds."""
    for _ in range(int(seconds)):
        if task.done():
            return
        await clock.advance(1.0)
    assert task.done(), f"the campaign did not finish within {seconds:g} clock seconds"


async def test_timeouts_run_on_the_manual_clock(
    clock: ManualClock, server: Lwm2mServer, files: FileServer, make_device: DeviceFactory
) -> None:
    await make_device("ok", firmware=SOUND)
    await make_device("hang", firmware=FirmwareSettings(fault=FirmwareFault("hang")))
    await make_device("brick", firmware=FirmwareSettings(fault=FirmwareFault("brick")))
    options = CampaignOptions(
        download_timeout=DOWNLOAD_TIMEOUT, update_timeout=UPDATE_TIMEOUT, request_timeout=30.0
    )
    campaign = Campaign(server, PACKAGE, files=files, options=options)
    assert campaign.clock is clock
    began_real, began = time.monotonic(), clock.now()
    task = asyncio.ensure_future(campaign.run(["ok", "hang", "brick"]))
    await drive(clock, task, DOWNLOAD_TIMEOUT + UPDATE_TIMEOUT + 60)
    report = task.result()
    assert time.monotonic() - began_real < 60  # none of the 600 s / 900 s waits was real
    outcomes = campaign.outcomes
    assert (outcomes["ok"].kind, outcomes["ok"].version) == ("updated", "3.0.0")
    assert outcomes["hang"].kind == "stalled"
    assert outcomes["brick"].kind == "no-return"
    hang, brick = outcomes["hang"], outcomes["brick"]
    assert hang.finished is not None and brick.finished is not None
    # each ended when its timeout ran out on the clock, not before
    assert DOWNLOAD_TIMEOUT <= hang.finished - began < DOWNLOAD_TIMEOUT + 30
    assert UPDATE_TIMEOUT <= brick.finished - began < UPDATE_TIMEOUT + 30
    assert report.by_kind == {"updated": 1, "stalled": 1, "no-return": 1}
    assert report.elapsed >= UPDATE_TIMEOUT


async def test_wait_for_on_the_clock(clock: ManualClock) -> None:
    never: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    waiting = asyncio.ensure_future(wait_for(clock, never, 5.0))
    await clock.advance(4.9)
    assert not waiting.done()
    await clock.advance(0.2)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(waiting, WAIT)
    assert never.cancelled()
    soon: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    waiting = asyncio.ensure_future(wait_for(clock, soon, 5.0))
    await clock.advance(1.0)
    soon.set_result(7)
    assert await asyncio.wait_for(waiting, WAIT) == 7
    assert clock.pending() == 0  # its timer is gone
