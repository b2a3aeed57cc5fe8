"""The console's fault switches over HTTP, on a device in this process: reject, silence,
reboot; and a clear 501 when the devices run elsewhere (``fleet server --http``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from fleet.server.http import DeviceSwitches, HttpServer, StandIn
from fleet.server.platform import texts
from fleet.testing.virtual import VirtualDevice
from tests.http.conftest import Api, received


@pytest_asyncio.fixture
async def switched(standin: StandIn, device: VirtualDevice) -> AsyncIterator[Api]:
    http = await HttpServer.start(standin, switches=DeviceSwitches([device.device]))
    try:
        async with aiohttp.ClientSession() as session:
            yield Api(session, http, standin)
    finally:
        await http.stop()


async def flip(api: Api, fault: str, on: bool = True, device: str = "device001") -> dict:
    status, body, _ = await api.request(
        "POST",
        f"{api.http.url}/fleet/api/devices/{device}/faults",
        body={"fault": fault, "on": on},
        headers={"Content-Type": "application/json"},
    )
    assert status == 200, body
    return dict(body["faults"])


async def answer_code(api: Api, con: str) -> dict:
    await api.run("device001", con)
    return dict((await api.latest("device001", "received-msg"))["content"]["status"])


@pytest.mark.asyncio
async def test_reject_answers_406_until_off(switched: Api) -> None:
    state = await flip(switched, "reject")
    assert state == {"device": "registered", "silence": False, "reject": True}
    assert (await answer_code(switched, "READ /3/0/0"))["code"] == 406
    await flip(switched, "reject", False)
    assert (await answer_code(switched, "READ /3/0/0"))["code"] == 200


@pytest.mark.asyncio
async def test_silence_times_out_then_registers_again(switched: Api) -> None:
    state = await flip(switched, "silence")
    assert state["device"] == "stopped" and state["silence"] is True
    assert await answer_code(switched, "READ /3/0/0") == texts.TIMEOUT.as_json()
    again = switched.expect(received("device001", "registration"))
    state = await flip(switched, "silence", False)
    assert state["silence"] is False
    await again
    assert (await answer_code(switched, "READ /3/0/0"))["code"] == 200


@pytest.mark.asyncio
async def test_reboot_deregisters_and_registers(switched: Api, device: VirtualDevice) -> None:
    gone = switched.expect(received("device001", "deregistration"))
    await flip(switched, "reboot")
    await gone
    status, body, _ = await switched.request("GET", f"{switched.http.url}/fleet/api/devices")
    assert status == 200
    row = body["devices"][0]
    assert row["state"] == "deregistered" and row["faults"]["device"] == "rebooting"


@pytest.mark.asyncio
async def test_devices_view_and_bad_switches(switched: Api, device: VirtualDevice) -> None:
    status, body, _ = await switched.request("GET", f"{switched.http.url}/fleet/api/devices")
    assert body["switches"] is True and body["api"].endswith("/v3/default")
    row = body["devices"][0]
    assert row["location"] == {"lat": 52.52, "lon": 13.405}
    assert row["values"]["3/0/0"] == "My Demo Device"
    for bad in ({"fault": "melt"}, {"fault": "silence", "on": "yes"}, ["silence"]):
        status, reply, _ = await switched.request(
            "POST", f"{switched.http.url}/fleet/api/devices/device001/faults", body=bad
        )
        assert status == 400 and "fault" in reply["m2m:dbg"]


@pytest.mark.asyncio
async def test_no_switches_when_the_devices_are_elsewhere(api: Api, device: VirtualDevice) -> None:
    status, body, _ = await api.request("GET", f"{api.http.url}/fleet/api/devices")
    assert body["switches"] is False and body["devices"][0]["faults"] is None
    status, reply, _ = await api.request(
        "POST",
        f"{api.http.url}/fleet/api/devices/device001/faults",
        body={"fault": "silence", "on": True},
    )
    assert status == 501
    assert "fleet demo --web" in reply["m2m:dbg"]
