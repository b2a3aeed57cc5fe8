"""The Server-Sent Events stream of new messages, read by an HTTP client."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest

from fleet.testing.virtual import VirtualDevice
from tests.http.conftest import WAIT, Api


async def next_event(reply: aiohttp.ClientResponse) -> tuple[str, str, Any]:
    """The next event of an SSE stream (comments skipped): (event, id, data)."""
    fields: dict[str, str] = {}
    while True:
        line = (await asyncio.wait_for(reply.content.readline(), WAIT)).decode().rstrip("\n")
        if line.startswith(":"):
            continue
        if not line:
            if fields:
                return fields["event"], fields["id"], json.loads(fields["data"])
            continue
        key, _, value = line.partition(": ")
        fields[key] = value


@pytest.mark.asyncio
async def test_stream_follows_a_command_chain(api: Api, device: VirtualDevice) -> None:
    url = api.http.url + "/fleet/api/events?device=device001&container=sent-msg,received-msg"
    async with api.session.get(url) as reply:
        assert reply.status == 200
        assert reply.headers["Content-Type"] == "text/event-stream"
        assert (await reply.content.readline()).startswith(b":")
        posted = await api.post("device001", "READ /3/0/0")
        kind, sent_id, sent = await next_event(reply)
        assert kind == "sent-msg"
        assert sent["contentInstance"]["resourceID"] == sent_id
        kind, _, got = await next_event(reply)
        assert kind == "received-msg"
        content = got["contentInstance"]
        assert content["content"]["data"] == {"3/0/0": "My Demo Device"}
        assert f"outgoing_msgRN:{posted['resourceName']}" in content["labels"]
        latest = await api.latest("device001", "received-msg")
        assert latest == content


@pytest.mark.asyncio
async def test_stream_default_is_received_messages_of_every_device(
    api: Api, device: VirtualDevice
) -> None:
    async with api.session.get(api.http.url + "/fleet/api/events") as reply:
        await reply.content.readline()
        await api.post("device001", "READ /6")
        kind, _, got = await next_event(reply)
        assert kind == "received-msg"
        assert got["contentInstance"]["content"]["resourcePath"] == "6"


@pytest.mark.asyncio
async def test_stream_bad_filters(api: Api, device: VirtualDevice) -> None:
    status, reply, _ = await api.request("GET", api.http.url + "/fleet/api/events?device=x")
    assert status == 404 and "x" in reply["m2m:dbg"]
    status, reply, _ = await api.request("GET", api.http.url + "/fleet/api/events?container=inbox")
    assert status == 400
