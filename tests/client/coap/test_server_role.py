"""Server role over real loopback UDP: answers, deduplication, rejects, async handlers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiocoap import Message
from aiocoap.numbers.codes import Code

from fleet.client.coap import EndpointLimits
from fleet.clock import ManualClock
from fleet.errors import NotFound

from .helpers import EXACT, build, empty, loop_errors, serving

pytestmark = pytest.mark.asyncio

CON, NON, ACK, RST = 0, 1, 2, 3


class Counting:
    """A handler answering ``hello <path>`` and counting its calls."""

    def __init__(self) -> None:
        self.calls: list[Any] = []

    def __call__(self, request: Any) -> Any:
        self.calls.append(request)
        path = "/".join(request.opt.uri_path)
        return Message(code=Code.CONTENT, payload=f"hello {path}".encode(), content_format=0)


async def test_con_request_gets_piggybacked_response() -> None:
    handler = Counting()
    async with serving(handler) as (endpoint, peer):
        peer.send(build(CON, Code.GET, 0x1001, b"tk", uri_path=("3", "0")), endpoint.address)
        reply = await peer.recv_message()
    assert (reply.mtype, reply.mid, reply.token) == (ACK, 0x1001, b"tk")
    assert reply.code == Code.CONTENT and reply.payload == b"hello 3/0"
    assert reply.opt.content_format == 0
    assert handler.calls[0].remote == peer.address


async def test_non_request_gets_non_response_with_same_token() -> None:
    async with serving(Counting()) as (endpoint, peer):
        peer.send(build(NON, Code.GET, 0x2002, b"\x09", uri_path=("a",)), endpoint.address)
        reply = await peer.recv_message()
    assert reply.mtype == NON and reply.token == b"\x09" and reply.mid != 0x2002
    assert reply.payload == b"hello a"


async def test_duplicate_con_is_answered_from_cache_without_rerunning_handler() -> None:
    handler = Counting()
    async with serving(handler) as (endpoint, peer):
        request = build(CON, Code.GET, 0x3003, b"t1", uri_path=("x",))
        peer.send(request, endpoint.address)
        first, _ = await peer.recv()
        peer.send(request, endpoint.address)
        second, _ = await peer.recv()
        assert first == second
        assert len(handler.calls) == 1
        assert endpoint.stats().duplicates == 1
        # same message id from another peer is another message
        peer.send(build(CON, Code.GET, 0x3004, b"t2", uri_path=("y",)), endpoint.address)
        assert (await peer.recv_message()).payload == b"hello y"


async def test_duplicate_non_is_dropped() -> None:
    handler = Counting()
    async with serving(handler) as (endpoint, peer):
        request = build(NON, Code.GET, 0x4004, b"t", uri_path=("x",))
        peer.send(request, endpoint.address)
        await peer.recv()
        peer.send(request, endpoint.address)
        await peer.assert_silent(endpoint.address)
    assert len(handler.calls) == 1


async def test_ping_is_answered_with_reset() -> None:
    async with serving(Counting()) as (endpoint, peer):
        peer.send(empty(CON, 0x0505), endpoint.address)
        data, _ = await peer.recv()
    assert data == empty(RST, 0x0505)


@pytest.mark.parametrize(
    ("datagram", "answer"),
    [
        (b"\x40\x01", None),  # too short for a header
        (b"\x80\x01\x00\x07", None),  # version 2: ignored
        (b"\x40\x01\x00\x07\xbd", empty(RST, 7)),  # CON, option announces more bytes than sent
        (b"\x50\x01\x00\x07\xbd", None),  # the same as NON: dropped
        (b"\x49\x01\x00\x07" + b"\x00" * 9, empty(RST, 7)),  # token length 9 is reserved
        (b"\x40\x00\x00\x07\xff\x01", empty(RST, 7)),  # empty message with a payload
        (b"\x40\xe1\x00\x07", empty(RST, 7)),  # 7.01: a signalling code on UDP
        (b"\x60\x01\x00\x07", None),  # an ACK carrying a request code
        (b"\x40\x01\x00\x07\xb1\xff", empty(RST, 7)),  # Uri-Path that is not UTF-8
    ],
)
async def test_malformed_messages_are_rejected_or_dropped(
    datagram: bytes, answer: bytes | None
) -> None:
    handler = Counting()
    with loop_errors() as errors:
        async with serving(handler) as (endpoint, peer):
            peer.send(datagram, endpoint.address)
            if answer is not None:
                data, _ = await peer.recv()
                assert data == answer
            await peer.assert_silent(endpoint.address)
            peer.send(build(CON, Code.GET, 9, b"k", uri_path=("ok",)), endpoint.address)
            assert (await peer.recv_message()).payload == b"hello ok"
            assert endpoint.stats().malformed >= 1
    assert len(handler.calls) == 1
    assert errors == []


async def test_unknown_critical_option_gives_bad_option() -> None:
    handler = Counting()
    async with serving(handler) as (endpoint, peer):
        peer.send(build(CON, Code.GET, 1, b"a", uri_path=("x",), oscore=b"\x01"), endpoint.address)
        reply = await peer.recv_message()
        assert (reply.mtype, reply.code, reply.mid) == (ACK, Code.BAD_OPTION, 1)
        peer.send(build(NON, Code.GET, 2, b"b", oscore=b"\x01"), endpoint.address)
        data, _ = await peer.recv()
        assert data == empty(RST, 2)
        peer.send(build(CON, Code.GET, 3, b"c", proxy_uri="coap://h/"), endpoint.address)
        assert (await peer.recv_message()).code == Code.PROXYING_NOT_SUPPORTED
        # an unknown *elective* option is ignored
        peer.send(
            build(CON, Code.GET, 4, b"d", uri_path=("e",), extra=((1000, b"x"),)), endpoint.address
        )
        assert (await peer.recv_message()).payload == b"hello e"
    assert len(handler.calls) == 1


@pytest.mark.parametrize(
    ("error", "code", "counted"),
    [(NotFound("gone"), Code.NOT_FOUND, 0), (RuntimeError("bug"), Code.INTERNAL_SERVER_ERROR, 1)],
)
async def test_handler_exceptions_become_error_responses(
    error: Exception, code: Code, counted: int
) -> None:
    def failing(request: Any) -> Any:
        raise error

    with loop_errors() as errors:
        async with serving(failing) as (endpoint, peer):
            peer.send(build(CON, Code.GET, 5, b"e"), endpoint.address)
            reply = await peer.recv_message()
            assert endpoint.stats().handler_errors == counted
    assert (reply.mtype, reply.code) == (ACK, code)
    assert errors == []


async def test_handler_returning_junk_is_answered_500() -> None:
    async with serving(lambda request: "not a message") as (endpoint, peer):
        peer.send(build(CON, Code.GET, 5, b"e"), endpoint.address)
        assert (await peer.recv_message()).code == Code.INTERNAL_SERVER_ERROR


async def test_no_handler_answers_not_found_and_none_answers_empty_ack() -> None:
    async with serving(None) as (endpoint, peer):
        peer.send(build(CON, Code.GET, 6, b"f"), endpoint.address)
        assert (await peer.recv_message()).code == Code.NOT_FOUND
    async with serving(lambda request: None) as (endpoint, peer):
        peer.send(build(CON, Code.POST, 7, b"g"), endpoint.address)
        data, _ = await peer.recv()
        assert data == empty(ACK, 7)


async def test_missing_response_code_gets_the_method_default() -> None:
    async with serving(lambda request: Message(payload=b"")) as (endpoint, peer):
        for mid, method, expected in [
            (1, Code.PUT, Code.CHANGED),
            (2, Code.DELETE, Code.DELETED),
            (3, Code.GET, Code.CONTENT),
        ]:
            peer.send(build(CON, method, mid, b"h"), endpoint.address)
            assert (await peer.recv_message()).code == expected


async def test_fast_async_handler_is_piggybacked() -> None:
    async def handler(request: Any) -> Any:
        await asyncio.sleep(0)
        return Message(code=Code.CHANGED)

    clock = ManualClock()
    async with serving(handler, clock=clock) as (endpoint, peer):
        peer.send(build(CON, Code.POST, 0x0A0A, b"p"), endpoint.address)
        reply = await peer.recv_message()
    assert (reply.mtype, reply.mid, reply.code) == (ACK, 0x0A0A, Code.CHANGED)


async def test_slow_async_handler_gets_empty_ack_then_separate_response() -> None:
    release = asyncio.Event()

    async def handler(request: Any) -> Any:
        await release.wait()
        return Message(code=Code.CONTENT, payload=b"late")

    clock = ManualClock()
    limits = EndpointLimits(empty_ack_delay=0.5)
    async with serving(handler, clock=clock, params=EXACT, limits=limits) as (endpoint, peer):
        request = build(CON, Code.GET, 0x0B0B, b"sep")
        peer.send(request, endpoint.address)
        await peer.assert_silent(endpoint.address)  # still within the delay
        await clock.advance(0.5)
        data, _ = await peer.recv()
        assert data == empty(ACK, 0x0B0B)
        peer.send(request, endpoint.address)  # a duplicate gets the empty ACK again
        assert (await peer.recv())[0] == empty(ACK, 0x0B0B)
        release.set()
        separate = await peer.recv_message()
        assert (separate.mtype, separate.token, separate.payload) == (CON, b"sep", b"late")
        assert separate.mid != 0x0B0B
        await clock.advance(EXACT.ack_timeout)  # not acknowledged: sent again
        again = await peer.recv_message()
        assert again.mid == separate.mid and again.payload == b"late"
        peer.send(empty(ACK, separate.mid), endpoint.address)
        await peer.assert_silent(endpoint.address)
        await clock.advance(100.0)
        await peer.assert_silent(endpoint.address)
        assert endpoint.stats().outstanding == 0


async def test_dedup_entries_expire_and_leave_no_timer() -> None:
    handler = Counting()
    clock = ManualClock()
    limits = EndpointLimits(dedup_max_age=30.0)
    async with serving(handler, clock=clock, limits=limits) as (endpoint, peer):
        request = build(CON, Code.GET, 0x0C0C, b"d")
        peer.send(request, endpoint.address)
        await peer.recv()
        assert endpoint.stats().dedup_size == 1
        assert clock.pending() == 1  # the one sweep timer
        await clock.advance(30.0)
        assert endpoint.stats().dedup_size == 0
        assert clock.pending() == 0  # idle: no timer left
        peer.send(request, endpoint.address)
        await peer.recv()
    assert len(handler.calls) == 2


async def test_dedup_cache_is_bounded_under_load() -> None:
    handler = Counting()
    limits = EndpointLimits(dedup_max_entries=50)
    async with serving(handler, limits=limits) as (endpoint, peer):
        for mid in range(300):
            peer.send(build(CON, Code.GET, mid, b"n"), endpoint.address)
            await peer.recv()
        stats = endpoint.stats()
    assert stats.dedup_size == 50
    assert stats.dedup_evicted == 250
    assert len(handler.calls) == 300
