"""Block-wise transfers (RFC 7959) over loopback: Block2 in both roles, Block1 as server."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiocoap import Message
from aiocoap.numbers.codes import Code

from fleet.client.coap import BlockwiseError, CoapEndpoint, EndpointLimits

from .helpers import RECEIVE_TIMEOUT, RawPeer, build, serving

pytestmark = pytest.mark.asyncio

CON, NON, ACK, RST = 0, 1, 2, 3
BODY = bytes(i % 251 for i in range(2500))


class Big:
    def __init__(self, body: bytes = BODY) -> None:
        self.body = body
        self.calls = 0

    def __call__(self, request: Any) -> Any:
        self.calls += 1
        response = Message(code=Code.CONTENT, payload=self.body, content_format=42)
        if request.opt.observe == 0:
            response.opt.observe = 0
        return response


async def test_server_slices_large_responses_statelessly() -> None:
    handler = Big()
    async with serving(handler) as (endpoint, peer):
        peer.send(build(CON, Code.GET, 1, b"b"), endpoint.address)
        first = await peer.recv_message()
        assert tuple(first.opt.block2) == (0, True, 6)
        assert first.opt.size2 == len(BODY) and len(first.payload) == 1024
        assert first.opt.content_format == 42 and first.opt.etag is not None
        parts = [first.payload]
        for number in (1, 2):
            peer.send(
                build(CON, Code.GET, 1 + number, b"b", block2=(number, 0, 6)), endpoint.address
            )
            block = await peer.recv_message()
            assert block.opt.block2.block_number == number
            assert block.opt.etag == first.opt.etag
            parts.append(block.payload)
        assert not block.opt.block2.more
        assert b"".join(parts) == BODY
        peer.send(build(CON, Code.GET, 9, b"b", block2=(3, 0, 6)), endpoint.address)
        assert (await peer.recv_message()).code == Code.BAD_REQUEST
    assert handler.calls == 4


async def test_server_honours_a_smaller_block_size() -> None:
    async with serving(Big()) as (endpoint, peer):
        peer.send(build(CON, Code.GET, 1, b"s", block2=(0, 0, 2)), endpoint.address)
        first = await peer.recv_message()
        assert tuple(first.opt.block2) == (0, True, 2) and first.payload == BODY[:64]
        peer.send(build(CON, Code.GET, 2, b"s", block2=(5, 0, 2)), endpoint.address)
        assert (await peer.recv_message()).payload == BODY[320:384]


async def test_server_uses_its_own_smaller_size() -> None:
    limits = EndpointLimits(block_szx=4)
    async with serving(Big(), limits=limits) as (endpoint, peer):
        peer.send(build(CON, Code.GET, 1, b"s", block2=(1, 0, 6)), endpoint.address)
        block = await peer.recv_message()  # block 1 of 1024 = block 4 of 256
        assert tuple(block.opt.block2) == (4, True, 4) and block.payload == BODY[1024:1280]


async def test_client_reassembles_block2() -> None:
    server = await CoapEndpoint.bind("127.0.0.1", handler=Big())
    client = await CoapEndpoint.bind("127.0.0.1")
    try:
        response = await client.request(Message(code=Code.GET), server.address)
        assert response.payload == BODY and response.opt.block2 is None
        response = await client.request(Message(code=Code.GET), server.address, confirmable=False)
        assert response.payload == BODY
    finally:
        client.close()
        server.close()


async def test_client_refuses_bodies_beyond_its_bound() -> None:
    server = await CoapEndpoint.bind("127.0.0.1", handler=Big())
    client = await CoapEndpoint.bind("127.0.0.1", limits=EndpointLimits(max_body_size=2048))
    peer = await RawPeer.open()
    try:
        with pytest.raises(BlockwiseError):  # announced by Size2
            await client.request(Message(code=Code.GET), server.address)
        # a peer that announces nothing and keeps sending blocks
        task = asyncio.create_task(client.request(Message(code=Code.GET), peer.address))
        for _ in range(3):
            request = await peer.recv_message()
            number = request.opt.block2.block_number if request.opt.block2 else 0
            peer.send(
                build(
                    ACK,
                    Code.CONTENT,
                    request.mid,
                    request.token,
                    b"x" * 1024,
                    block2=(number, 1, 6),
                ),
                client.address,
            )
        with pytest.raises(BlockwiseError):
            await asyncio.wait_for(task, RECEIVE_TIMEOUT)
    finally:
        client.close()
        server.close()
        peer.close()


async def test_client_notices_a_changed_representation() -> None:
    class Changing(Big):
        def __call__(self, request: Any) -> Any:
            self.body = bytes([self.calls % 256]) * 2500
            return super().__call__(request)

    server = await CoapEndpoint.bind("127.0.0.1", handler=Changing())
    client = await CoapEndpoint.bind("127.0.0.1")
    try:
        with pytest.raises(BlockwiseError):
            await client.request(Message(code=Code.GET), server.address)
    finally:
        client.close()
        server.close()


async def test_large_notifications_are_reassembled() -> None:
    server = await CoapEndpoint.bind("127.0.0.1", handler=Big())
    client = await CoapEndpoint.bind("127.0.0.1")
    try:
        observation = client.observe(Message(code=Code.GET), server.address)
        first = await observation.response
        assert first.payload == BODY and first.opt.observe is not None
        notification = Message(code=Code.CONTENT, payload=BODY)
        assert await server.notify(client.address, observation.token, notification)
        received = await anext(observation)
        assert received.payload == BODY
    finally:
        client.close()
        server.close()


async def test_server_assembles_block1_writes() -> None:
    seen: list[bytes] = []

    def handler(request: Any) -> Any:
        seen.append(request.payload)
        return Message(code=Code.CHANGED)

    body = bytes(range(200))
    async with serving(handler) as (endpoint, peer):
        for number in range(4):
            chunk = body[number * 64 : (number + 1) * 64]
            more = number < 3
            request = build(
                CON,
                Code.PUT,
                10 + number,
                b"w",
                chunk,
                uri_path=("3442", "0", "110"),
                block1=(number, more, 2),
            )
            peer.send(request, endpoint.address)
            reply = await peer.recv_message()
            assert tuple(reply.opt.block1) == (number, more, 2)
            assert reply.code == (Code.CONTINUE if more else Code.CHANGED)
    assert seen == [body]


async def test_server_refuses_block1_bodies_beyond_its_bound() -> None:
    limits = EndpointLimits(max_body_size=100)
    async with serving(lambda r: Message(code=Code.CHANGED), limits=limits) as (endpoint, peer):
        peer.send(build(CON, Code.PUT, 1, b"w", b"x" * 64, block1=(0, 1, 2)), endpoint.address)
        assert (await peer.recv_message()).code == Code.CONTINUE
        peer.send(build(CON, Code.PUT, 2, b"w", b"x" * 64, block1=(1, 1, 2)), endpoint.address)
        reply = await peer.recv_message()
        assert reply.code == Code.REQUEST_ENTITY_TOO_LARGE and reply.opt.size1 == 100
        peer.send(build(CON, Code.PUT, 3, b"w", b"x" * 64, block1=(2, 1, 2)), endpoint.address)
        assert (await peer.recv_message()).code == Code.REQUEST_ENTITY_INCOMPLETE


async def test_large_response_to_post_is_held_not_recomputed() -> None:
    calls: list[bytes] = []

    def handler(request: Any) -> Any:
        calls.append(request.payload)
        return Message(code=Code.CHANGED, payload=b"result:" + BODY)

    async with serving(handler) as (endpoint, peer):
        peer.send(build(CON, Code.POST, 1, b"p", b"go", uri_path=("x",)), endpoint.address)
        first = await peer.recv_message()
        assert first.code == Code.CHANGED and first.opt.block2.more
        body = first.payload
        for number in (1, 2):
            follow = build(CON, Code.POST, 1 + number, b"q", uri_path=("x",), block2=(number, 0, 6))
            peer.send(follow, endpoint.address)
            body += (await peer.recv_message()).payload
        assert body == b"result:" + BODY
        other = build(CON, Code.POST, 9, b"r", uri_path=("y",), block2=(1, 0, 6))
        peer.send(other, endpoint.address)  # nothing held for /y
        assert (await peer.recv_message()).code == Code.REQUEST_ENTITY_INCOMPLETE
    assert calls == [b"go"]


async def test_client_reassembles_a_post_response() -> None:
    def handler(request: Any) -> Any:
        return Message(code=Code.CHANGED, payload=request.payload * 1000)

    server = await CoapEndpoint.bind("127.0.0.1", handler=handler)
    client = await CoapEndpoint.bind("127.0.0.1")
    try:
        response = await client.request(Message(code=Code.POST, payload=b"ab"), server.address)
        assert response.payload == b"ab" * 1000
    finally:
        client.close()
        server.close()
