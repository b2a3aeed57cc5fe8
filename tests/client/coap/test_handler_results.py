"""Explicit handler results (NO_REPLY, Duplicate), a sleeping endpoint, retransmission callback."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiocoap import Message

from fleet.client.coap import NO_REPLY, Duplicate
from fleet.clock import ManualClock

from .helpers import build, fake_endpoint, parse

CON, NON, ACK = 0, 1, 2
GET, CONTENT = 1, 69
REMOTE = ("127.0.0.1", 40000)


def _request(mid: int) -> bytes:
    return build(CON, GET, mid, b"\x01", uri_path=("3", "0", "0"))


def test_no_reply_sends_nothing_and_swallows_retransmissions() -> None:
    clock = ManualClock()
    calls: list[Any] = []

    def handler(request: Any) -> Any:
        calls.append(request)
        return NO_REPLY

    endpoint, transport = fake_endpoint(clock, handler=handler)
    endpoint.datagram_received(_request(7), REMOTE)
    endpoint.datagram_received(_request(7), REMOTE)  # the peer's retransmission
    assert transport.sent == [] and len(calls) == 1
    assert endpoint.stats().duplicates == 1


def test_none_still_means_an_empty_ack() -> None:
    endpoint, transport = fake_endpoint(ManualClock(), handler=lambda request: None)
    endpoint.datagram_received(_request(8), REMOTE)
    assert [parse(data).mtype for _, data, _ in transport.sent] == [ACK]


def test_duplicate_sends_the_same_answer_twice() -> None:
    def handler(request: Any) -> Any:
        return Duplicate(Message(code=CONTENT, payload=b"x"))

    endpoint, transport = fake_endpoint(ManualClock(), handler=handler)
    endpoint.datagram_received(_request(9), REMOTE)
    sent = [data for _, data, _ in transport.sent]
    assert len(sent) == 2 and sent[0] == sent[1]
    answer = parse(sent[0])
    assert (answer.mid, int(answer.code), answer.payload) == (9, CONTENT, b"x")


@pytest.mark.asyncio
async def test_a_sleeping_endpoint_ignores_everything_until_it_wakes() -> None:
    endpoint, transport = fake_endpoint(
        ManualClock(), handler=lambda request: Message(code=CONTENT)
    )
    endpoint.asleep = True
    endpoint.datagram_received(_request(10), REMOTE)
    assert transport.sent == [] and endpoint.stats().ignored == 1
    endpoint.asleep = False
    endpoint.datagram_received(_request(10), REMOTE)  # not recorded while asleep: served now
    assert len(transport.sent) == 1 and int(parse(transport.sent[0][1]).code) == CONTENT


@pytest.mark.asyncio
async def test_each_retransmission_is_reported() -> None:
    clock = ManualClock()
    endpoint, transport = fake_endpoint(clock)
    heard: list[tuple[float, tuple[str, int]]] = []
    endpoint.on_retransmit = lambda remote: heard.append((clock.now(), remote))
    request = asyncio.ensure_future(endpoint.request(Message(code=GET, uri_path=("x",)), REMOTE))
    await clock.advance(0.0)
    await clock.advance(2.0)
    await clock.advance(4.0)
    assert [when for when, _ in heard] == [2.0, 6.0]
    assert all(remote == REMOTE for _, remote in heard)
    assert endpoint.stats().retransmissions == 2 and len(transport.sent) == 3
    request.cancel()
    with pytest.raises(asyncio.CancelledError):
        await request
