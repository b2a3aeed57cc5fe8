"""A device answers only its LwM2M server, over real UDP.

Any socket on the network could READ, WRITE or EXECUTE a device (or cancel its observations
with a Reset) by sending to its port. Now a device ignores every datagram whose source is not
its server's address (counted as ``foreign``), unless ``any_source`` is set for a test rig.
A device listening on every interface for a server off this machine says so once.
"""

from __future__ import annotations

import logging

import pytest

from fleet.client.coap.wire import CON, Message, encode
from fleet.client.config import DeviceConfig
from fleet.client.transport import _warned, warn_wildcard_bind

from .fakes import GET, PUT, FakeServer, code, raw_replies, registered_device

pytestmark = pytest.mark.asyncio
EP = "dev-1"


def _get(mid: int, token: bytes) -> bytes:
    options = Message(code=GET, uri_path=("3", "0", "0")).opt
    return encode(CON, GET, mid, token, options, b"")


async def test_a_stranger_gets_no_answer_and_the_server_still_does(server: FakeServer) -> None:
    async with registered_device(server, EP) as device:
        assert device.address is not None
        with pytest.raises(TimeoutError):
            await raw_replies(device.address, _get(4242, b"x"), 1, timeout=0.5)
        endpoint = device.endpoint
        assert endpoint is not None and endpoint.stats().foreign >= 1
        response = await server.request(EP, GET, "/3/0/0")
        assert code(response) == "2.05" and response.payload == b"lwm2m-fleet"


async def test_a_stranger_cannot_write(server: FakeServer) -> None:
    async with registered_device(server, EP) as device:
        assert device.address is not None
        options = Message(code=PUT, uri_path=("3442", "0", "110")).opt
        options.content_format = 0
        datagram = encode(CON, PUT, 4244, b"w", options, b"owned")
        with pytest.raises(TimeoutError):
            await raw_replies(device.address, datagram, 1, timeout=0.5)
        assert device.tree.value("/3442/0/110") == "initial value"


async def test_any_source_answers_a_test_rig(server: FakeServer) -> None:
    async with registered_device(server, EP, any_source=True) as device:
        assert device.address is not None
        (reply,) = await raw_replies(device.address, _get(4243, b"y"), 1)
        assert reply[1] == 69 and reply.endswith(b"lwm2m-fleet")  # 2.05 Content


async def test_a_wildcard_bind_for_a_remote_server_is_said_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    _warned.clear()
    far, near = ("192.0.2.10", 5683), ("127.0.0.1", 5683)
    config = DeviceConfig("far-1", server="coap://192.0.2.10:5683")
    assert config.local_host_for(far) == "0.0.0.0"
    with caplog.at_level(logging.WARNING, logger="fleet.client"):
        warn_wildcard_bind(config, far, ("0.0.0.0", 40000))
        warn_wildcard_bind(DeviceConfig("far-2", server=config.server), far, ("0.0.0.0", 40001))
        warn_wildcard_bind(
            DeviceConfig("near", server="coap://127.0.0.1:5683"), near, ("0.0.0.0", 1)
        )
    (record,) = caplog.records
    assert "far-1: listening on every interface (0.0.0.0" in record.getMessage()
    assert "set bind_host" in record.getMessage()
    _warned.clear()
