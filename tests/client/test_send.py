"""Send (LwM2M 1.1): the API and the test object's Send Data executable, muted and not."""

from __future__ import annotations

import cbor2
import pytest

from fleet.client.events import SendDone
from fleet.client.send import SendNotAllowed
from fleet.codec import ContentFormat, decode_composite
from fleet.model import Path, flatten

from .fakes import POST, PUT, EventLog, FakeServer, registered_device

pytestmark = pytest.mark.asyncio

EP = "dev-1"
F = ContentFormat


async def test_send_posts_senml_cbor_to_dp(server: FakeServer) -> None:
    log = EventLog()
    async with registered_device(server, EP, log=log) as device:
        done = await device.send(["/3303/0/5700", "/3/0/9"])
        assert done.ok and done.code == "2.04"
        assert log.of(SendDone) == [done]
        seen = await server.next("send")
        assert seen.request.opt.uri_path == ("dp",)
        assert int(seen.request.opt.content_format) == F.SENML_CBOR
        records = cbor2.loads(seen.payload)  # independent decoding: SenML CBOR labels
        by_name = {r.get(-2, "") + r.get(0, ""): r for r in records}
        assert by_name["/3303/0/5700"][2] == 21.0
        values = flatten(decode_composite(F.SENML_CBOR, seen.payload, device.models))
        assert values == {Path(3303, 0, 5700): 21.0, Path(3, 0, 9): 87}


async def test_send_with_timestamp_and_json(server: FakeServer) -> None:
    async with registered_device(server, EP) as device:
        await device.send(["/3442/0/110"], content_format=F.SENML_JSON, timestamp=True)
        seen = await server.next("send")
        assert int(seen.request.opt.content_format) == F.SENML_JSON
        assert b'"bt":' in seen.payload and b"initial value" in seen.payload


async def test_send_data_executable_sends_the_listed_paths(server: FakeServer) -> None:
    log = EventLog()
    async with registered_device(server, EP, log=log) as device:
        write = await server.request(
            EP, PUT, "/3442/0/6", payload=b'[{"bn":"/3442/0/6/","n":"0","vs":"/3/0/0"}]',
            content_format=int(F.SENML_JSON),
        )  # fmt: skip
        assert int(write.code) == 68
        executed = await server.request(EP, POST, "/3442/0/5")
        assert int(executed.code) == 68
        seen = await server.next("send")
        values = flatten(decode_composite(F.SENML_CBOR, seen.payload, device.models))
        assert values == {Path(3, 0, 0): "lwm2m-fleet"}
        assert (await log.next(SendDone)).ok


async def test_send_disabled_mutes_it(server: FakeServer) -> None:
    log = EventLog()
    async with registered_device(server, EP, log=log, send_enabled=False) as device:
        with pytest.raises(SendNotAllowed, match="Mute Send"):
            await device.send(["/3/0/0"])
        device.tree.set_value("/3442/0/6", ["/3/0/0"])
        executed = await server.request(EP, POST, "/3442/0/5")
        assert int(executed.code) == 68  # the Execute itself succeeds
        done = await log.next(SendDone)
        assert not done.ok and "Mute Send" in (done.error or "")
        # the server may switch Send on again through /1/0/23
        await server.request(EP, PUT, "/1/0/23", payload=b"0", content_format=0)
        assert (await device.send(["/3/0/0"])).ok
        assert server.count("send") == 1


async def test_send_needs_lwm2m_11_and_a_registration(server: FakeServer) -> None:
    async with registered_device(server, EP, lwm2m_version="1.0") as device:
        with pytest.raises(SendNotAllowed, match=r"1\.1"):
            await device.send(["/3/0/0"])
    async with registered_device(server, "other") as device:
        await device.stop()
        with pytest.raises(SendNotAllowed, match="not registered"):
            await device.send(["/3/0/0"])
