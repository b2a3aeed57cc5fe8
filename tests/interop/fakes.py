"""Minimal LwM2M client peers for validating the lwm2m-node-lib harness, and for recording exactly
what that server sends (options, types, payloads).

``FakeClient`` stands on our ``CoapEndpoint``: it registers (POST /rd with link format), answers
GET with text/plain values, PUT, POST (execute) and Observe, sends notifications, updates and
de-registers — and records every request it receives. ``RawPeer`` is a bare UDP socket for the
few checks where the message layer must not choose for us (e.g. the first Observe number).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, cast

from aiocoap import Message
from aiocoap.numbers.codes import Code
from aiocoap.numbers.types import Type

from fleet.client.coap import Address, CoapEndpoint, TransmissionParameters

TEXT = 0
LINK_FORMAT = 40
DEFAULT_PARAMETERS = TransmissionParameters()
WAIT = 10.0  # real seconds; only reached when a test is about to fail


@dataclass(frozen=True)
class Seen:
    """One request as the fake received it."""

    method: str
    path: str
    confirmable: bool
    token: bytes
    remote: Address
    accept: int | None
    content_format: int | None
    observe: int | None
    query: tuple[str, ...]
    payload: bytes
    option_numbers: tuple[int, ...]


def seen(request: Any) -> Seen:
    opt = request.opt
    return Seen(
        method=str(request.code.name),
        path="/" + "/".join(opt.uri_path),
        confirmable=request.mtype == Type.CON,
        token=bytes(request.token),
        remote=(request.remote[0], request.remote[1]),
        accept=None if opt.accept is None else int(opt.accept),
        content_format=None if opt.content_format is None else int(opt.content_format),
        observe=opt.observe,
        query=tuple(opt.uri_query),
        payload=bytes(request.payload),
        option_numbers=tuple(int(option.number) for option in opt.option_list()),
    )


class FakeClient:
    """A scripted LwM2M client: text/plain resources, executables, observers."""

    def __init__(
        self,
        endpoint_name: str,
        values: dict[str, bytes],
        executables: tuple[str, ...] = (),
        *,
        links: str = "</1/0>,</3/0>,</3303/0>,</3442/0>",
        params: TransmissionParameters = DEFAULT_PARAMETERS,
    ) -> None:
        self.params = params
        self.name = endpoint_name
        self.values = dict(values)
        self.executables = executables
        self.links = links
        self.requests: list[Seen] = []
        self.location: tuple[str, ...] = ()
        self.server: Address | None = None
        self.observers: dict[str, list[tuple[Address, bytes]]] = {}
        self._endpoint: CoapEndpoint | None = None
        self._arrived = asyncio.Event()

    async def __aenter__(self) -> FakeClient:
        self._endpoint = await CoapEndpoint.bind(
            "127.0.0.1", handler=self._handle, params=self.params
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._endpoint is not None:
            self._endpoint.close()

    @property
    def endpoint(self) -> CoapEndpoint:
        assert self._endpoint is not None, "use FakeClient as an async context manager"
        return self._endpoint

    # -- requests from the server -------------------------------------------------------

    def _handle(self, request: Any) -> Any:
        record = seen(request)
        self.requests.append(record)
        self._arrived.set()
        path, code = record.path, request.code
        if code == Code.GET:
            if path not in self.values:
                return Message(code=Code.NOT_FOUND)
            if record.accept not in (None, TEXT):
                return Message(code=Code.NOT_ACCEPTABLE)
            response = Message(code=Code.CONTENT, payload=self.values[path], content_format=TEXT)
            if record.observe == 0:
                response.opt.observe = 0  # the endpoint numbers the observation from here
                self.observers.setdefault(path, []).append((record.remote, record.token))
            return response
        if code == Code.PUT:
            if path not in self.values:
                return Message(code=Code.NOT_FOUND)
            if record.content_format != TEXT:
                return Message(code=Code.UNSUPPORTED_CONTENT_FORMAT)
            self.values[path] = record.payload
            return Message(code=Code.CHANGED)
        if code == Code.POST:
            if path in self.executables:
                return Message(code=Code.CHANGED)
            return Message(code=Code.METHOD_NOT_ALLOWED)
        return Message(code=Code.METHOD_NOT_ALLOWED)

    async def wait_request(
        self,
        method: str,
        path: str,
        timeout: float = WAIT,
        *,
        where: Callable[[Seen], bool] | None = None,
    ) -> Seen:
        """The first recorded request with this method and path (and ``where`` true)."""

        async def until_seen() -> Seen:
            while True:
                self._arrived.clear()
                for record in self.requests:
                    if (record.method, record.path) == (method, path) and (
                        where is None or where(record)
                    ):
                        return record
                await self._arrived.wait()

        return await asyncio.wait_for(until_seen(), timeout)

    def notify(self, path: str, value: bytes, *, confirmable: bool = False) -> list[Any]:
        """Change a value and notify its observers; the endpoint's delivery futures."""
        self.values[path] = value
        note = Message(code=Code.CONTENT, payload=value, content_format=TEXT)
        return [
            self.endpoint.notify(remote, token, note, confirmable=confirmable)
            for remote, token in self.observers.get(path, [])
        ]

    # -- registration interface ---------------------------------------------------------

    async def register(self, server: Address, lifetime: int = 60, binding: str = "U") -> Any:
        """POST /rd; remembers the Location-Path options of a 2.01 answer."""
        self.server = server
        request = Message(
            code=Code.POST,
            uri_path=("rd",),
            uri_query=(f"ep={self.name}", f"lt={lifetime}", "lwm2m=1.1", f"b={binding}"),
            content_format=LINK_FORMAT,
            payload=self.links.encode(),
        )
        response = await self.endpoint.request(request, server, timeout=WAIT)
        if response.code == Code.CREATED:
            self.location = tuple(response.opt.location_path)
        return response

    def location_path(self, *, split: bool = True) -> tuple[str, ...]:
        """The Uri-Path of Update and De-register: the Location-Path options as received, or
        split at "/" (lwm2m-node-lib answers ONE option "rd/<n>")."""
        if not split:
            return self.location
        return tuple(part for segment in self.location for part in segment.split("/") if part)

    async def update(
        self, lifetime: int | None = None, links: str | None = None, *, split: bool = True
    ) -> Any:
        assert self.server is not None
        request = Message(code=Code.POST, uri_path=self.location_path(split=split))
        if lifetime is not None:
            request.opt.uri_query = (f"lt={lifetime}",)
        if links is not None:
            request.opt.content_format = LINK_FORMAT
            request.payload = links.encode()
        return await self.endpoint.request(request, self.server, timeout=WAIT)

    async def deregister(self) -> Any:
        assert self.server is not None
        request = Message(code=Code.DELETE, uri_path=self.location_path())
        return await self.endpoint.request(request, self.server, timeout=WAIT)


def raw_message(
    mtype: Type, code: Code, mid: int, token: bytes, payload: bytes = b"", **options: Any
) -> Any:
    """A message with the header fields chosen by the test (for :class:`RawPeer`)."""
    message = Message(code=code, payload=payload, _mtype=mtype, _mid=mid, _token=token)
    for name, value in options.items():
        setattr(message.opt, name, value)
    return message


class RawPeer(asyncio.DatagramProtocol):
    """A bare UDP socket on loopback: send encoded messages, receive decoded ones."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[tuple[Any, Address]] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None

    @classmethod
    async def bind(cls) -> RawPeer:
        loop = asyncio.get_running_loop()
        _, peer = await loop.create_datagram_endpoint(cls, local_addr=("127.0.0.1", 0))
        return peer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        with contextlib.suppress(Exception):  # not CoAP: ignore
            self.received.put_nowait((Message.decode(data), (addr[0], addr[1])))

    def send(self, message: Any, remote: Address) -> None:
        assert self.transport is not None
        self.transport.sendto(message.encode(), remote)

    async def receive(self, timeout: float = WAIT) -> tuple[Any, Address]:
        return await asyncio.wait_for(self.received.get(), timeout)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
