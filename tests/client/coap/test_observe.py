"""Observe (RFC 7641) in both roles: notifications, sequence numbers, freshness, cancellation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiocoap import Message
from aiocoap.numbers.codes import Code

from fleet.client.coap import CoapEndpoint, EndpointLimits
from fleet.clock import ManualClock

from .helpers import EXACT, RECEIVE_TIMEOUT, RawPeer, build, empty, fake_endpoint, parse

pytestmark = pytest.mark.asyncio

CON, NON, ACK, RST = 0, 1, 2, 3


class Observable:
    """A resource whose handler accepts observations and records every request."""

    def __init__(self) -> None:
        self.requests: list[Any] = []
        self.value = 0

    def __call__(self, request: Any) -> Any:
        self.requests.append(request)
        response = Message(code=Code.CONTENT, payload=str(self.value).encode())
        if request.opt.observe == 0:
            response.opt.observe = 0
        return response


def note(value: int) -> Any:
    return Message(code=Code.CONTENT, payload=str(value).encode(), content_format=0)


class Cancelled:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, bytes]] = []
        self.event = asyncio.Event()

    def __call__(self, remote: Any, token: bytes) -> None:
        self.calls.append((remote, token))
        self.event.set()

    async def wait(self) -> None:
        await asyncio.wait_for(self.event.wait(), RECEIVE_TIMEOUT)


async def pair(**server_kwargs: Any) -> tuple[CoapEndpoint, CoapEndpoint, Observable]:
    resource = Observable()
    server = await CoapEndpoint.bind("127.0.0.1", handler=resource, **server_kwargs)
    client = await CoapEndpoint.bind("127.0.0.1")
    return server, client, resource


async def test_notifications_flow_with_increasing_sequence_numbers() -> None:
    server, client, resource = await pair()
    try:
        observation = client.observe(Message(code=Code.GET, uri_path=("3303", "0")), server.address)
        first = await observation.response
        assert first.payload == b"0" and first.opt.observe is not None
        request = resource.requests[0]
        assert request.opt.observe == 0
        assert server.observing(client.address, observation.token)
        delivered = []
        for value in (1, 2):
            delivered.append(await server.notify(client.address, observation.token, note(value)))
        delivered.append(
            await server.notify(client.address, observation.token, note(3), confirmable=True)
        )
        assert delivered == [True, True, True]
        received = [await anext(observation) for _ in range(3)]
        assert [m.payload for m in received] == [b"1", b"2", b"3"]
        sequences = [first.opt.observe] + [m.opt.observe for m in received]
        assert sequences == sorted(sequences) and len(set(sequences)) == 4
        assert received[2].mtype == CON and server.stats().outstanding == 0
        assert received[0].opt.content_format == 0
    finally:
        client.close()
        server.close()


async def test_callback_receives_notifications() -> None:
    server, client, _ = await pair()
    seen: list[bytes] = []
    arrived = asyncio.Event()

    def callback(message: Any) -> None:
        seen.append(message.payload)
        arrived.set()

    try:
        observation = client.observe(Message(code=Code.GET), server.address, callback=callback)
        await observation.response
        await server.notify(client.address, observation.token, note(7))
        await asyncio.wait_for(arrived.wait(), RECEIVE_TIMEOUT)
        assert seen == [b"7"]
    finally:
        client.close()
        server.close()


async def test_stale_notifications_are_dropped() -> None:
    client = await CoapEndpoint.bind("127.0.0.1")
    peer = await RawPeer.open()
    try:
        observation = client.observe(Message(code=Code.GET, uri_path=("v",)), peer.address)
        request = await peer.recv_message()
        assert request.opt.observe == 0
        token = request.token
        peer.send(build(ACK, Code.CONTENT, request.mid, token, b"10", observe=10), client.address)
        assert (await observation.response).payload == b"10"
        for mid, sequence in ((1, 12), (2, 11), (3, 12), (4, 0xFFFFFF), (5, 13)):
            body = str(sequence).encode()
            peer.send(build(NON, Code.CONTENT, mid, token, body, observe=sequence), client.address)
        payloads = [(await anext(observation)).payload for _ in range(2)]
        assert payloads == [b"12", b"13"]
        assert observation.stale == 3
    finally:
        client.close()
        peer.close()


async def test_error_notification_ends_the_observation() -> None:
    client = await CoapEndpoint.bind("127.0.0.1")
    peer = await RawPeer.open()
    try:
        observation = client.observe(Message(code=Code.GET), peer.address)
        request = await peer.recv_message()
        peer.send(build(ACK, Code.CONTENT, request.mid, request.token, observe=1), client.address)
        await observation.response
        peer.send(build(CON, Code.NOT_FOUND, 9, request.token), client.address)
        assert (await peer.recv())[0] == empty(ACK, 9)
        notes = [message.code async for message in observation]
        assert notes == [Code.NOT_FOUND]
        assert not observation.active
        peer.send(build(NON, Code.CONTENT, 10, request.token, observe=2), client.address)
        assert (await peer.recv())[0] == empty(RST, 10)  # forgotten: reset
    finally:
        client.close()
        peer.close()


async def test_refused_registration_is_a_plain_response() -> None:
    server = await CoapEndpoint.bind("127.0.0.1", handler=lambda r: Message(code=Code.CONTENT))
    client = await CoapEndpoint.bind("127.0.0.1")
    try:
        observation = client.observe(Message(code=Code.GET), server.address)
        first = await observation.response
        assert first.opt.observe is None
        assert [m async for m in observation] == []
        assert not server.observing(client.address, observation.token)
        assert await server.notify(client.address, observation.token, note(1)) is False
    finally:
        client.close()
        server.close()


async def test_cancel_with_observe_1_deregisters() -> None:
    server, client, resource = await pair()
    try:
        observation = client.observe(Message(code=Code.GET, uri_path=("a",)), server.address)
        await observation.response
        resource.value = 5
        response = await observation.cancel()
        assert response.payload == b"5" and response.opt.observe is None
        deregistration = resource.requests[-1]
        assert deregistration.opt.observe == 1
        assert deregistration.token == observation.token
        assert deregistration.opt.uri_path == ("a",)
        assert not server.observing(client.address, observation.token)
        assert await server.notify(client.address, observation.token, note(6)) is False
        assert not observation.active
    finally:
        client.close()
        server.close()


@pytest.mark.parametrize("confirmable", [True, False])
async def test_cancel_by_reset_reaches_on_cancel(confirmable: bool) -> None:
    cancelled = Cancelled()
    server, client, _ = await pair(on_cancel=cancelled)
    try:
        observation = client.observe(Message(code=Code.GET), server.address)
        await observation.response
        observation.cancel_by_reset()
        outcome = await server.notify(
            client.address, observation.token, note(1), confirmable=confirmable
        )
        assert outcome is (not confirmable)  # a NON counts as sent; the RST comes after
        await cancelled.wait()
        assert cancelled.calls == [(client.address, observation.token)]
        assert server.observer_count == 0
        assert client.stats().resets == 0 and server.stats().resets == 1
    finally:
        client.close()
        server.close()


async def test_unacknowledged_confirmable_notification_ends_observation() -> None:
    clock = ManualClock()
    cancelled: list[tuple[Any, bytes]] = []
    server, transport = fake_endpoint(
        clock, handler=Observable(), on_cancel=lambda r, t: cancelled.append((r, t))
    )
    remote = ("192.0.2.7", 40000)
    server.datagram_received(build(CON, Code.GET, 1, b"ob", observe=0), remote)
    assert parse(transport.sent[-1][1]).opt.observe == 0
    outcome = server.notify(remote, b"ob", note(1), confirmable=True)
    await clock.advance(EXACT.max_transmit_wait + 1)
    assert await outcome is False
    assert cancelled == [(remote, b"ob")]
    assert len(transport.sent) == 2 + EXACT.max_retransmit
    assert not server.observing(remote, b"ob")


async def test_newer_confirmable_notification_replaces_one_in_flight() -> None:
    clock = ManualClock()
    server, transport = fake_endpoint(clock, handler=Observable())
    remote = ("192.0.2.7", 40000)
    server.datagram_received(build(CON, Code.GET, 1, b"ob", observe=0), remote)
    first = server.notify(remote, b"ob", note(1), confirmable=True)
    await clock.advance(EXACT.ack_timeout)  # one retransmission of the first
    second = server.notify(remote, b"ob", note(2), confirmable=True)
    assert await first is False
    assert server.stats().outstanding == 1
    assert parse(transport.sent[-1][1]).payload == b"2"
    await clock.advance(200.0)
    assert await second is False
    # registration answer, first notification and its one retransmission, then the second
    # notification with the remaining MAX_RETRANSMIT - 1 retransmissions (counter carried over)
    assert len(transport.sent) == 1 + 2 + 1 + (EXACT.max_retransmit - 1)
    assert {parse(d).payload for _, d, _ in transport.sent[3:]} == {b"2"}


async def test_reregistration_continues_the_sequence_and_observers_are_bounded() -> None:
    clock = ManualClock()
    server, transport = fake_endpoint(
        clock, handler=Observable(), limits=EndpointLimits(max_observers=1)
    )
    remote = ("192.0.2.7", 40000)
    server.datagram_received(build(CON, Code.GET, 1, b"a", observe=0), remote)
    server.datagram_received(build(CON, Code.GET, 2, b"a", observe=0), remote)
    assert [parse(d).opt.observe for _, d, _ in transport.sent] == [0, 1]
    server.datagram_received(build(CON, Code.GET, 3, b"b", observe=0), remote)
    refused = parse(transport.sent[-1][1])
    assert refused.code == Code.CONTENT and refused.opt.observe is None
    assert server.observer_count == 1
    server.forget_observer(remote, b"a")
    assert server.observer_count == 0
