"""Client role: matching, separate responses, RST, retransmission and timeouts on a ManualClock."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from aiocoap import Message
from aiocoap.numbers.codes import Code

from fleet.client.coap import (
    CoapEndpoint,
    CoapReset,
    CoapTimeout,
    EndpointClosed,
    EndpointLimits,
    TransmissionParameters,
)
from fleet.client.coap.retransmit import schedule
from fleet.clock import ManualClock

from .helpers import EXACT, RawPeer, build, empty, fake_endpoint

pytestmark = pytest.mark.asyncio

CON, NON, ACK, RST = 0, 1, 2, 3


def get(*path: str) -> Any:
    return Message(code=Code.GET, uri_path=path)


async def client_and_peer(**kwargs: Any) -> tuple[CoapEndpoint, RawPeer]:
    client = await CoapEndpoint.bind("127.0.0.1", **kwargs)
    peer = await RawPeer.open()
    return client, peer


async def test_request_response_between_two_endpoints() -> None:
    def handler(request: Any) -> Any:
        return Message(code=Code.CONTENT, payload=request.payload[::-1] or b"empty")

    server = await CoapEndpoint.bind("127.0.0.1", handler=handler)
    client = await CoapEndpoint.bind("127.0.0.1")
    try:
        message = Message(code=Code.POST, payload=b"abc", uri_path=("x",))
        response = await client.request(message, server.address)
        assert response.payload == b"cba" and response.mtype == ACK
        response = await client.request(get("y"), server.address, confirmable=False)
        assert response.payload == b"empty" and response.mtype == NON
        assert response.remote == server.address
        assert message.token == b"" and message.mid is None  # the caller's message is untouched
        assert client.stats().exchanges == 0 and client.stats().outstanding == 0
    finally:
        client.close()
        server.close()


async def test_concurrent_requests_are_matched_by_token() -> None:
    client, peer = await client_and_peer()
    try:
        tasks = [asyncio.create_task(client.request(get(str(i)), peer.address)) for i in range(3)]
        requests = [await peer.recv_message() for _ in range(3)]
        assert len({r.token for r in requests}) == 3
        assert len({r.mid for r in requests}) == 3
        for request in reversed(requests):  # answer in reverse order
            body = request.opt.uri_path[0].encode()
            peer.send(build(ACK, Code.CONTENT, request.mid, request.token, body), client.address)
        answers = [(await task).payload for task in tasks]
        assert answers == [b"0", b"1", b"2"]
    finally:
        client.close()
        peer.close()


async def test_separate_response_is_acknowledged_and_delivered_once() -> None:
    client, peer = await client_and_peer()
    try:
        task = asyncio.create_task(client.request(get("s"), peer.address))
        request = await peer.recv_message()
        peer.send(empty(ACK, request.mid), client.address)
        separate = build(CON, Code.CONTENT, 0x7777, request.token, b"later")
        peer.send(separate, client.address)
        assert (await peer.recv())[0] == empty(ACK, 0x7777)
        assert (await task).payload == b"later"
        peer.send(separate, client.address)  # our ACK was lost: the peer repeats
        assert (await peer.recv())[0] == empty(ACK, 0x7777)
        await peer.assert_silent(client.address)
        assert client.stats().duplicates == 1
    finally:
        client.close()
        peer.close()


async def test_separate_response_before_empty_ack_stops_retransmission() -> None:
    clock = ManualClock()
    client, peer = await client_and_peer(clock=clock, params=EXACT)
    try:
        task = asyncio.create_task(client.request(get("s"), peer.address))
        request = await peer.recv_message()
        peer.send(build(NON, Code.CONTENT, 0x10, request.token, b"fast"), client.address)
        assert (await task).payload == b"fast"
        await clock.advance(100.0)
        await peer.assert_silent(client.address)
        assert client.stats().retransmissions == 0
    finally:
        client.close()
        peer.close()


async def test_piggybacked_response_with_wrong_token_counts_as_empty_ack() -> None:
    client, peer = await client_and_peer()
    try:
        task = asyncio.create_task(client.request(get("w"), peer.address))
        request = await peer.recv_message()
        peer.send(build(ACK, Code.CONTENT, request.mid, b"other", b"no"), client.address)
        peer.send(build(NON, Code.CONTENT, 0x20, request.token, b"yes"), client.address)
        assert (await task).payload == b"yes"
    finally:
        client.close()
        peer.close()


async def test_reset_raises_coap_reset() -> None:
    client, peer = await client_and_peer()
    try:
        task = asyncio.create_task(client.request(get("r"), peer.address))
        request = await peer.recv_message()
        peer.send(empty(RST, request.mid), client.address)
        with pytest.raises(CoapReset):
            await task
        assert client.stats().exchanges == 0
    finally:
        client.close()
        peer.close()


async def test_retransmissions_follow_the_schedule_then_time_out() -> None:
    clock = ManualClock()
    client, peer = await client_and_peer(clock=clock, params=EXACT)
    try:
        task = asyncio.create_task(client.request(get("t"), peer.address))
        first, _ = await peer.recv()
        plan = schedule(EXACT, EXACT.ack_timeout)
        elapsed = 0.0
        for due in plan.retransmissions:
            await clock.advance(due - elapsed - 0.01)
            await peer.assert_silent(client.address)
            await clock.advance(0.01)
            elapsed = due
            assert (await peer.recv())[0] == first  # the same bytes, same message id
        await clock.advance(plan.give_up - elapsed - 0.01)
        assert not task.done()
        await clock.advance(0.01)
        with pytest.raises(CoapTimeout):
            await task
        assert clock.now() == pytest.approx(62.0)
        stats = client.stats()
        assert (stats.retransmissions, stats.timeouts, stats.outstanding) == (4, 1, 0)
        await peer.assert_silent(client.address)
    finally:
        client.close()
        peer.close()


class _Highest(random.Random):
    def random(self) -> float:
        return 1.0


async def test_retransmission_times_on_a_fake_transport() -> None:
    clock = ManualClock()
    params = TransmissionParameters()
    client, transport = fake_endpoint(clock, params=params, rng=_Highest(1))
    task = asyncio.create_task(client.request(get("f"), ("192.0.2.1", 5683)))
    await clock.advance(200.0)
    with pytest.raises(CoapTimeout):
        await task
    times = [when for when, _, _ in transport.sent]
    assert times == pytest.approx([0.0, 3.0, 9.0, 21.0, 45.0])
    assert len({data for _, data, _ in transport.sent}) == 1
    assert clock.now() == 200.0 and clock.pending() == 0


async def test_cancelling_the_caller_stops_retransmission() -> None:
    clock = ManualClock()
    client, transport = fake_endpoint(clock)
    task = asyncio.create_task(client.request(get("c"), ("192.0.2.1", 5683)))
    await clock.advance(0.0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await clock.advance(100.0)
    assert len(transport.sent) == 1
    assert client.stats().outstanding == 0 and client.stats().exchanges == 0


@pytest.mark.parametrize("confirmable", [True, False])
async def test_overall_timeout_and_response_wait(confirmable: bool) -> None:
    clock = ManualClock()
    limits = EndpointLimits(response_timeout=10.0)
    client, _transport = fake_endpoint(clock, limits=limits)
    task = asyncio.create_task(
        client.request(get("o"), ("192.0.2.1", 5683), confirmable=confirmable, timeout=5.0)
    )
    await clock.advance(4.9)
    assert not task.done()
    await clock.advance(0.1)
    with pytest.raises(CoapTimeout):
        await task
    # without a timeout, a NON waits response_timeout
    task = asyncio.create_task(client.request(get("o"), ("192.0.2.1", 5683), confirmable=False))
    await clock.advance(9.9)
    assert not task.done()
    await clock.advance(0.1)
    with pytest.raises(CoapTimeout):
        await task
    assert clock.pending() == 0


async def test_empty_ack_then_silence_times_out_after_response_wait() -> None:
    clock = ManualClock()
    limits = EndpointLimits(response_timeout=20.0)
    client, peer = await client_and_peer(clock=clock, limits=limits, params=EXACT)
    try:
        task = asyncio.create_task(client.request(get("e"), peer.address))
        request = await peer.recv_message()
        peer.send(empty(ACK, request.mid), client.address)
        await peer.assert_silent(client.address)
        await clock.advance(19.9)
        assert not task.done()
        await peer.assert_silent(client.address)  # acknowledged: never retransmitted
        await clock.advance(0.1)
        with pytest.raises(CoapTimeout):
            await task
    finally:
        client.close()
        peer.close()


async def test_responses_nobody_waits_for_are_reset() -> None:
    client, peer = await client_and_peer()
    try:
        peer.send(build(CON, Code.CONTENT, 0x31, b"ghost", b"x"), client.address)
        assert (await peer.recv())[0] == empty(RST, 0x31)
        peer.send(build(NON, Code.CONTENT, 0x32, b"ghost", b"x"), client.address)
        assert (await peer.recv())[0] == empty(RST, 0x32)
        peer.send(build(ACK, Code.CONTENT, 0x33, b"ghost", b"x"), client.address)
        await peer.assert_silent(client.address)  # a stray ACK is ignored
    finally:
        client.close()
        peer.close()


async def test_close_fails_waiting_requests() -> None:
    clock = ManualClock()
    client, _transport = fake_endpoint(clock)
    task = asyncio.create_task(client.request(get("z"), ("192.0.2.1", 5683)))
    await clock.advance(0.0)
    client.close()
    with pytest.raises(EndpointClosed):
        await task
    assert clock.pending() == 0
    with pytest.raises(EndpointClosed):
        await client.request(get("z"), ("192.0.2.1", 5683))


async def test_a_response_code_is_not_a_request() -> None:
    client, _transport = fake_endpoint(ManualClock())
    with pytest.raises(ValueError):
        await client.request(Message(code=Code.CONTENT), ("192.0.2.1", 5683))


async def test_ipv6_loopback() -> None:
    server = await CoapEndpoint.bind(
        "::1", handler=lambda r: Message(code=Code.CONTENT, payload=b"6")
    )
    client = await CoapEndpoint.bind("::1")
    try:
        assert server.address[0] == "::1"
        response = await client.request(get(), server.address)
        assert response.payload == b"6" and response.remote == server.address
    finally:
        client.close()
        server.close()
