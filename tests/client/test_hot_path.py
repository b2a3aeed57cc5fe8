"""A device answers a Read within the call that received it: no task, timer or callback each."""

from __future__ import annotations

import asyncio

import pytest
from aiocoap.numbers.codes import Code

from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.clock import ManualClock
from fleet.codec import ContentFormat, decode
from fleet.model import Path, flatten

from .coap.helpers import build, fake_endpoint, parse

pytestmark = pytest.mark.asyncio

CON, ACK = 0, 2
SERVER = ("127.0.0.1", 5683)


@pytest.mark.parametrize(
    ("options", "fmt"),
    [
        ({"uri_path": ("3", "0", "0")}, ContentFormat.TEXT),
        ({"uri_path": ("3", "0"), "accept": 112}, ContentFormat.SENML_CBOR),
    ],
)
async def test_each_read_is_answered_before_datagram_received_returns(
    options: dict[str, object], fmt: ContentFormat
) -> None:
    clock = ManualClock()
    device = Device(DeviceConfig(endpoint="hot", server="coap://127.0.0.1:5683"), clock=clock)
    endpoint, transport = fake_endpoint(clock, handler=device._handle)
    tasks = len(asyncio.all_tasks())
    path = Path(*(int(i) for i in answer_path(options)))
    expected = device.tree.read(path)
    for mid in range(50):
        token = mid.to_bytes(2, "big")
        endpoint.datagram_received(build(CON, Code.GET, mid, token, **options), SERVER)
        assert len(transport.sent) == mid + 1  # answered in this very call
        answer = parse(transport.sent[-1][1])
        assert (answer.mtype, answer.mid, answer.token) == (ACK, mid, token)
        assert answer.code == Code.CONTENT and answer.opt.content_format == fmt
        decoded = decode(fmt, answer.payload, path, device.models)
        assert flatten(decoded, path) == flatten(expected, path)  # SenML drops empty containers
    assert len(asyncio.all_tasks()) == tasks  # no task per request
    assert clock.pending() == 1  # the deduplication sweep, one for every request
    assert endpoint.stats().duplicates == 0 and endpoint.handler_errors == 0


def answer_path(options: dict[str, object]) -> tuple[str, ...]:
    path = options["uri_path"]
    assert isinstance(path, tuple)
    return path


async def test_a_repeated_request_gets_the_same_answer_again() -> None:
    clock = ManualClock()
    device = Device(DeviceConfig(endpoint="hot", server="coap://127.0.0.1:5683"), clock=clock)
    endpoint, transport = fake_endpoint(clock, handler=device._handle)
    request = build(CON, Code.GET, 9, b"t", uri_path=("3", "0"), accept=112)
    endpoint.datagram_received(request, SERVER)
    endpoint.datagram_received(request, SERVER)  # a retransmission: from the dedup cache
    assert transport.sent[0][1] == transport.sent[1][1]
    assert endpoint.stats().duplicates == 1
