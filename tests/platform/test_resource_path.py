"""``resourcePath`` has one form in every message the server emits: ``"3303/0/5700"``.

The seed document's responses and its ``data`` keys write paths without the leading slash
(``"resourcePath": "3442/0/2"``, ``"3442/0/160": ...``); every message kind follows them.
"""

from __future__ import annotations

import asyncio

import pytest

from fleet.client.device import Device
from fleet.model import Path
from fleet.server.platform import Console, summary
from fleet.server.platform.messages import resource_path
from tests.platform.conftest import WAIT, Recorder, kind_is

pytestmark = pytest.mark.asyncio


async def test_every_message_kind_writes_the_path_alike(
    console: Console, recorder: Recorder, device: Device
) -> None:
    (read,) = await console.run_line("dev1 READ /3303/0/5700")
    (refused,) = await console.run_line("dev1 WRITE /3303/0/5700")  # no value: refused
    (rejected,) = await console.run_line("dev1 EXECUTE /3303/0/5700")  # the device says 4.05
    (observed,) = await console.run_line("dev1 OBSERVE /3303/0/5700 pmin=0 pmax=30")
    (conflict,) = await console.run_line("dev1 OBS /3303/0/5700")  # 409
    notified = recorder.expect(kind_is("notify"))
    device.tree.set_value("/3303/0/5700", 18.0)
    note = await asyncio.wait_for(notified, WAIT)
    (gone,) = await console.run_line("nobody READ /3303/0/5700")  # 404 unknown device
    messages = [read, refused, rejected, observed, conflict, note, gone]
    assert [m["content"]["resourcePath"] for m in messages] == ["3303/0/5700"] * 7
    assert [m["content"].get("status", {}).get("code") for m in messages] == [
        200,
        400,
        405,
        200,
        409,
        None,
        404,
    ]
    assert read["content"]["data"] == {"3303/0/5700": read["content"]["data"]["3303/0/5700"]}
    for message in messages:  # the one-line view (demo, console) says the same path
        assert " 3303/0/5700" in summary(message) and "/3303/0/5700" not in summary(message)


async def test_one_helper_makes_the_form() -> None:
    assert resource_path(Path(3442, 0, 2)) == "3442/0/2"
    assert resource_path("/6") == resource_path("6") == "6"
