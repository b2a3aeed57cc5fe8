"""The console says what the server could not type, and why a Write was not sent."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.server import Lwm2mServer
from fleet.server.platform import Console
from tests.platform.conftest import WAIT, Recorder
from tests.server.unmodelled_fixtures import TANK_LAYOUT, TANK_VALUES, tank_registry

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def tank(tmp_path: pathlib.Path) -> AsyncIterator[tuple[Console, Recorder, Device]]:
    recorder = Recorder()
    async with await Lwm2mServer.start(request_timeout=WAIT) as server:
        console = Console(server, recorder.emit, say=recorder.said.append, timeout=WAIT)
        device = Device(
            DeviceConfig(
                endpoint="tank-1",
                server=server.uri,
                layout=TANK_LAYOUT,
                registry=tank_registry(tmp_path),
                values=dict(TANK_VALUES),
            )
        )
        await device.start()
        await server.wait_for_registration("tank-1", WAIT)
        try:
            yield console, recorder, device
        finally:
            console.close()
            await device.stop(deregister=False)


async def test_a_read_names_what_the_server_has_no_model_for(
    tank: tuple[Console, Recorder, Device],
) -> None:
    console, _, _ = tank
    (answer,) = await console.run_line("tank-1 READ /20500/0/1")
    content = answer["content"]
    assert content["status"]["code"] == 200
    assert content["data"] == {"20500/0/1": "42.5"}  # the device's text, untyped
    detail = content["status"]["detail"]
    assert "no model for /20500/0/1; load its definition with --objects DIR" in detail


async def test_a_write_without_a_model_is_sent_as_text(
    tank: tuple[Console, Recorder, Device],
) -> None:
    console, _, device = tank
    (answer,) = await console.run_line("tank-1 WRITE /20500/0/0 east")
    assert answer["content"]["status"]["code"] == 200
    assert device.tree.value("/20500/0/0") == "east"


async def test_a_write_the_server_cannot_encode_says_why_not_check_the_path(
    tank: tuple[Console, Recorder, Device],
) -> None:
    console, _, _ = tank
    (answer,) = await console.run_line("tank-1 WRITE /20500/0 east")
    status = answer["content"]["status"]
    assert status["code"] == 400
    assert "Check the path" not in status["detail"]
    assert "no model for /20500/0: cannot encode an instance without one" in status["detail"]
    assert "--objects DIR" in status["detail"]
