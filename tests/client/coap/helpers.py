"""Test helpers for the CoAP message layer: a raw UDP peer, a fake transport, builders."""

from __future__ import annotations

import asyncio
import contextlib
import random
import struct
from collections.abc import AsyncIterator, Iterator
from typing import Any

from aiocoap import Message
from aiocoap.numbers.optionnumbers import OptionNumber
from aiocoap.numbers.types import Type

from fleet.client.coap import CoapEndpoint, EndpointLimits, TransmissionParameters
from fleet.client.coap.results import Handler
from fleet.clock import Clock

RECEIVE_TIMEOUT = 5.0  # real seconds; only reached when a test is about to fail

# deterministic retransmission: initial timeout exactly ACK_TIMEOUT
EXACT = TransmissionParameters(ack_random_factor=1.0)


def build(
    mtype: int,
    code: int,
    mid: int,
    token: bytes = b"",
    payload: bytes = b"",
    extra: tuple[tuple[int, bytes], ...] = (),
    **options: Any,
) -> bytes:
    """Encode one message with aiocoap's own encoder (an independent reference);
    ``extra`` adds raw options by number."""
    message = Message(code=code, payload=payload, _mtype=Type(mtype), _mid=mid, _token=token)
    for name, value in options.items():
        setattr(message.opt, name, value)
    for number, value in extra:
        message.opt.add_option(OptionNumber(number).create_option(value=value))
    data: bytes = message.encode()
    return data


def parse(data: bytes) -> Any:
    return Message.decode(data)


def empty(mtype: int, mid: int) -> bytes:
    return struct.pack("!BBH", 0x40 | (mtype << 4), 0, mid)


class RawPeer(asyncio.DatagramProtocol):
    """A plain UDP socket on loopback that records what it receives."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None

    @classmethod
    async def open(cls, host: str = "127.0.0.1") -> RawPeer:
        loop = asyncio.get_running_loop()
        peer = cls()
        await loop.create_datagram_endpoint(lambda: peer, local_addr=(host, 0))
        return peer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self.queue.put_nowait((data, (addr[0], addr[1])))

    @property
    def address(self) -> tuple[str, int]:
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return (host, port)

    def send(self, data: bytes, remote: tuple[str, int]) -> None:
        assert self.transport is not None
        self.transport.sendto(data, remote)

    async def recv(self) -> tuple[bytes, tuple[str, int]]:
        return await asyncio.wait_for(self.queue.get(), RECEIVE_TIMEOUT)

    async def recv_message(self) -> Any:
        data, _ = await self.recv()
        return parse(data)

    async def assert_silent(self, remote: tuple[str, int], mid: int = 0xFFFE) -> None:
        """Prove nothing else was sent to us: a ping's RST must be the next datagram."""
        self.send(empty(0, mid), remote)
        data, _ = await self.recv()
        assert data == empty(3, mid), f"expected only the ping's RST, got {parse(data)}"

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


class FakeTransport(asyncio.DatagramTransport):
    """A datagram transport that only records what is sent, and when."""

    def __init__(self, clock: Clock, address: tuple[str, int] = ("127.0.0.1", 5683)) -> None:
        super().__init__()
        self.clock = clock
        self.address = address
        self.sent: list[tuple[float, bytes, tuple[str, int]]] = []
        self.closed = False

    def sendto(self, data: Any, addr: Any = None) -> None:
        self.sent.append((self.clock.now(), bytes(data), addr))

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self.address if name == "sockname" else default

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


def fake_endpoint(
    clock: Clock,
    *,
    handler: Handler | None = None,
    params: TransmissionParameters = EXACT,
    limits: EndpointLimits | None = None,
    rng: random.Random | None = None,
    on_cancel: Any = None,
) -> tuple[CoapEndpoint, FakeTransport]:
    endpoint = CoapEndpoint(
        handler=handler,
        clock=clock,
        params=params,
        limits=limits if limits is not None else EndpointLimits(),
        rng=rng if rng is not None else random.Random(7),
        on_cancel=on_cancel,
    )
    transport = FakeTransport(clock)
    endpoint.connection_made(transport)
    return endpoint, transport


@contextlib.asynccontextmanager
async def serving(
    handler: Handler | None, host: str = "127.0.0.1", **kwargs: Any
) -> AsyncIterator[tuple[CoapEndpoint, RawPeer]]:
    """A CoapEndpoint with ``handler`` and a raw peer to talk to it; both closed after."""
    endpoint = await CoapEndpoint.bind(host, handler=handler, **kwargs)
    peer = await RawPeer.open(host)
    try:
        yield endpoint, peer
    finally:
        endpoint.close()
        peer.close()


@contextlib.contextmanager
def loop_errors() -> Iterator[list[dict[str, Any]]]:
    """Collect whatever reaches the event loop's exception handler."""
    loop = asyncio.get_running_loop()
    seen: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: seen.append(context))
    try:
        yield seen
    finally:
        loop.set_exception_handler(previous)
