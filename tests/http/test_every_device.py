"""``POST device-communication/*/outgoing-msg``: one outgoing message for every device."""

from __future__ import annotations

import asyncio

import pytest

from fleet.server.platform.rules import parse_rule
from tests.http.conftest import WAIT, Api, DeviceFactory, received

pytestmark = pytest.mark.asyncio


async def test_star_files_and_sends_one_message_per_registered_device(
    api: Api, make_device: DeviceFactory
) -> None:
    for name in ("d1", "d2", "d3"):
        await make_device(name)
    status, body, _ = await api.request(
        "POST", "/device-communication/*/outgoing-msg", body={"m2m:cin": {"con": "READ /3/0/0"}}
    )
    assert status == 201, body
    uris = body["m2m:uril"]
    assert [uri.split("/")[1] for uri in uris] == ["d1", "d2", "d3"]
    assert all(uri.startswith("device-communication/") and "/outgoing-msg/" in uri for uri in uris)
    await asyncio.wait_for(api.standin.drain(), WAIT)
    for name in ("d1", "d2", "d3"):
        answer = await api.latest(name, "received-msg")
        assert answer["content"]["resourcePath"] == "3/0/0"
        assert answer["content"]["data"] == {"3/0/0": "My Demo Device"}
        assert (await api.listing(name, "outgoing-msg")) == []  # sent, then deleted
        sent = await api.latest(name, "sent-msg")
        assert sent["content"] == "READ /3/0/0"
    assert api.standin.console.pool.stats.done == 3


async def test_star_with_no_device_registered_is_404(api: Api) -> None:
    status, body, _ = await api.request(
        "POST", "/device-communication/*/outgoing-msg", body={"m2m:cin": {"con": "READ /3"}}
    )
    assert status == 404 and "no registered device" in body["m2m:dbg"]


async def test_rule_results_land_in_received_msg(api: Api, make_device: DeviceFactory) -> None:
    api.standin.console.add_rules([parse_rule("READ /3/0/1")])
    answered = api.expect(
        lambda i: received("d9", "response")(i) and i.content.get("resourcePath") == "3/0/1"
    )
    await make_device("d9")
    instance = await answered
    assert instance.content["data"] == {"3/0/1": "Model 500"}
    assert instance.labels[0].startswith("outgoing_msgRN:")
