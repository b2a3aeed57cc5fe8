"""Devices we did not write send NaN and infinities; every JSON the server prints stays valid.

JSON has no NaN or Infinity (RFC 8259 §6). Python's ``json`` writes them anyway, and no
other parser reads them back, so one such value from a device would make an answer of the
platform API, an event of its stream, the console's list of devices or a console line
unreadable. Two devices send them here:

- lwm2m-node-lib's client (tests/interop/nodelib_client.js), which answers a Read with the
  value's text: ``Infinity`` and ``-Infinity`` (its registry cannot serve a NaN: the value
  is falsy, so it answers 4.04);
- a crafted raw peer (tests/server/fakes.FakeDevice) answering NaN and infinities in TLV
  (LwM2M 1.0), SenML CBOR (1.1), LwM2M CBOR and a SenML JSON payload with a ``NaN`` literal,
  in Reads and in notifications, and reporting a NaN latitude.

Every body is read with a strict parser (``parse_constant`` raising); the values show as the
strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path as FilePath
from typing import Any

import pytest
import pytest_asyncio

from fleet.codec import ContentFormat, encode
from fleet.model.path import Path
from fleet.model.values import Value
from fleet.server import Lwm2mServer
from fleet.server.platform.messages import render
from tests.http.conftest import WAIT, Api, received
from tests.interop.nodelib import missing as nodelib_missing
from tests.server.fakes import DEVICE_VALUES, MODELS, FakeDevice

pytestmark = pytest.mark.asyncio
NAN, INF = float("nan"), float("inf")
NODELIB_CLIENT = FilePath(__file__).resolve().parents[1] / "interop" / "nodelib_client.js"


def strict(text: str | bytes) -> Any:
    """``json.loads`` that fails on NaN / Infinity, as every other JSON parser does."""

    def refuse(name: str) -> Any:
        raise AssertionError(f"{name} in JSON output: {text!r:.300}")

    return json.loads(text, parse_constant=refuse)


class FormatPeer(FakeDevice):
    """The fake device, answering every Read in ``answer`` (its content format), or with
    ``literal`` (a SenML JSON body as a hostile device writes it) when given."""

    answer: ContentFormat | None = None
    literal: bytes | None = None

    def _content(self, paths: tuple[Path, ...], fmt: ContentFormat, *, composite: bool) -> Any:
        from aiocoap import Message
        from aiocoap.numbers.codes import Code

        if self.literal is not None:
            return Message(code=Code.CONTENT, payload=self.literal, content_format=110)
        if self.answer is None:
            return super()._content(paths, fmt, composite=composite)
        leaves = {p: v for p, v in self.values.items() if any(t.contains(p) for t in paths)}
        from fleet.codec import build_node

        node = build_node(paths[0], leaves, self.models)
        payload = encode(self.answer, node, paths[0], self.models)
        return Message(code=Code.CONTENT, payload=payload, content_format=int(self.answer))


def _values() -> dict[Path, Value]:
    values = dict(DEVICE_VALUES)
    values[Path(3303, 0, 5700)] = NAN
    values[Path(3303, 0, 5701)] = "Cel"
    values[Path(6, 0, 0)] = NAN  # latitude
    values[Path(6, 0, 1)] = -INF  # longitude
    return values


PEERS = [
    ("raw-tlv", "1.0", None, None),
    ("raw-senml-cbor", "1.1", None, None),
    ("raw-lwm2m-cbor", "1.2", ContentFormat.LWM2M_CBOR, None),
    ("raw-senml-json", "1.1", None, b'[{"bn":"/3303/0/","n":"5700","v":NaN}]'),
]


@pytest_asyncio.fixture
async def peers(server: Lwm2mServer, api: Api) -> AsyncIterator[list[FakeDevice]]:
    started: list[FakeDevice] = []
    try:
        for name, version, answer, literal in PEERS:
            registered = api.expect(received(name, "registration"))
            peer = await FormatPeer.start(server.address[:2], name, lwm2m=version, values=_values())
            peer.answer, peer.literal = answer, literal
            started.append(peer)
            assert (await peer.register()).code.is_successful()
            await registered
        yield started
    finally:
        for peer in started:
            peer.close()


async def _raw(api: Api, path: str) -> str:
    async with api.session.get(api.base + path if path.startswith("/d") else path) as reply:
        assert reply.status == 200
        return await reply.text()


async def test_reads_and_notifications_of_raw_peers_stay_valid_json(
    api: Api, peers: list[FakeDevice]
) -> None:
    for peer in peers:
        for command in ("READ /3303/0", "READ /3303/0/5700", "READ /6/0"):
            await api.run(peer.name, command)
            text = await _raw(api, f"/device-communication/{peer.name}/received-msg/la")
            content = strict(text)["contentInstance"]["content"]
            assert content["messageType"] == "response", (peer.name, command)
            if peer.literal is None:  # the values, shown as text
                data = content["data"]
                assert "NaN" in data.values() or "-Infinity" in data.values(), (peer, data)
            else:  # the server's strict decoder refuses the literal; the answer says so
                assert content["status"]["code"] != 200 or content["data"] in (None, {})
        listing = await _raw(api, f"/device-communication/{peer.name}/received-msg")
        strict(listing)
    tlv = peers[0]
    observed = api.expect(received(tlv.name, "notify"))
    await api.run(tlv.name, "OBSERVE /3303/0/5700 pmin=0 pmax=60")
    await asyncio.wait_for(tlv.notify(Path(3303, 0, 5700)), WAIT)
    note = (await observed).content
    assert note["dataValue"] == "NaN"
    strict(await _raw(api, f"/device-communication/{tlv.name}/received-msg/la"))


async def test_the_console_device_list_leaves_a_nan_position_off_the_map(
    api: Api, peers: list[FakeDevice]
) -> None:
    await api.run("raw-tlv", "READ /6/0")
    body = strict(await _raw(api, api.http.url + "/fleet/api/devices"))
    (row,) = [d for d in body["devices"] if d["endpoint"] == "raw-tlv"]
    assert row["location"] is None  # NaN, -Infinity: no place on a map
    assert row["values"]["6/0/0"] == "NaN" and row["values"]["6/0/1"] == "-Infinity"


async def test_the_event_stream_and_console_lines_stay_valid_json(
    api: Api, peers: list[FakeDevice]
) -> None:
    url = api.http.url + "/fleet/api/events?device=raw-senml-cbor"
    async with api.session.get(url) as reply:
        assert (await reply.content.readline()).startswith(b":")
        await api.post("raw-senml-cbor", "READ /3303/0")
        while True:
            line = (await asyncio.wait_for(reply.content.readline(), WAIT)).decode()
            if line.startswith("data: "):
                event = strict(line[len("data: ") :])
                break
    content = event["contentInstance"]["content"]
    assert content["data"]["3303/0/5700"] == "NaN"
    for as_json in (True, False):  # what `fleet server` prints for that message
        assert strict(render(content | {}, as_json=as_json)) == content


@pytest.mark.interop
@pytest.mark.skipif(nodelib_missing() is not None, reason=nodelib_missing() or "")
async def test_lwm2m_node_lib_client_sending_infinities(server: Lwm2mServer, api: Api) -> None:
    values = {"/3303/0": {"5700": "-Infinity", "5701": "Cel"}, "/3442/0": {"130": "Infinity"}}
    registered = api.expect(received("nodelib-1", "registration"))
    host, port = server.address[:2]
    process = await asyncio.create_subprocess_exec(
        *["node", "--no-warnings", str(NODELIB_CLIENT), "--host", host, "--port", str(port)],
        *["--endpoint", "nodelib-1", "--values", json.dumps(values)],
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=NODELIB_CLIENT.parent,
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), 20)
        assert strict(line)["event"] == "registered", line
        await registered
        shown = {}
        for path in ("/3303/0/5700", "/3442/0/130"):
            await api.run("nodelib-1", f"READ {path}")
            text = await _raw(api, "/device-communication/nodelib-1/received-msg/la")
            shown.update(strict(text)["contentInstance"]["content"]["data"])
        assert shown == {"3303/0/5700": "-Infinity", "3442/0/130": "Infinity"}
        body = strict(await _raw(api, api.http.url + "/fleet/api/devices"))
        (row,) = [d for d in body["devices"] if d["endpoint"] == "nodelib-1"]
        assert row["values"]["3442/0/130"] == "Infinity"
    finally:
        process.stdin.close()
        await asyncio.wait_for(process.wait(), 10)
    assert MODELS.get(3442).resources[130].type.value == "Float"  # a Float, read as one
