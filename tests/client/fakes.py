"""A small fake LwM2M server for the client tests, built on our own CoapEndpoint.

It answers the Registration interface (``POST /rd`` -> 2.01 with a
Location-Path, ``POST /rd/<id>`` -> 2.04, ``DELETE /rd/<id>`` -> 2.02) and Send
(``POST /dp`` -> 2.04), records every such request, and lets a test send
Device Management requests to a registered device. Scripted answers make it
misbehave: refuse the next Registers, forget a device (its Update gets 4.04),
or stay silent (an empty ACK and never a response).

It runs on the real loop clock; the devices under test usually run on a
ManualClock. Waits are bounded by real-time timeouts that are only reached
when a test is about to fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiocoap import Message
from aiocoap.numbers.codes import Code

from fleet.client.coap import CoapEndpoint, EndpointLimits, Observation
from fleet.clock import ManualClock
from fleet.codec.formats import ContentFormat

WAIT = 5.0  # real seconds; only reached when a test is about to fail

GET, POST, PUT, DELETE, FETCH, IPATCH = (
    Code.GET,
    Code.POST,
    Code.PUT,
    Code.DELETE,
    Code.FETCH,
    Code.iPATCH,
)


@dataclass
class Seen:
    """A request of the Registration interface or Send, as the fake server saw it."""

    kind: str  # "register", "update", "deregister", "send"
    request: Any
    endpoint: str | None
    location: str | None
    answer: int | None

    @property
    def query(self) -> tuple[str, ...]:
        return tuple(self.request.opt.uri_query)

    @property
    def payload(self) -> bytes:
        return bytes(self.request.payload)

    @property
    def remote(self) -> tuple[str, int]:
        return tuple(self.request.remote)  # type: ignore[return-value]


@dataclass
class Client:
    """A registered device as the fake server knows it."""

    endpoint: str
    location: str
    address: tuple[str, int]
    query: tuple[str, ...]
    links: str


@dataclass
class FakeServer:
    endpoint: CoapEndpoint
    clients: dict[str, Client] = field(default_factory=dict)  # by location
    seen: list[Seen] = field(default_factory=list)
    scripted: dict[str, deque[int | None]] = field(default_factory=dict)
    silent: set[str] = field(default_factory=set)
    _queues: dict[str, asyncio.Queue[Seen]] = field(default_factory=dict)
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _locations: dict[str, str] = field(default_factory=dict)  # endpoint -> location

    @classmethod
    async def start(cls, host: str = "127.0.0.1") -> FakeServer:
        limits = EndpointLimits(dedup_max_entries=50_000, max_observers=50_000)
        server = cls(endpoint=None)  # type: ignore[arg-type]
        server.endpoint = await CoapEndpoint.bind(host, handler=server._handle, limits=limits)
        return server

    def close(self) -> None:
        self.endpoint.close()

    @property
    def address(self) -> tuple[str, int]:
        return self.endpoint.address

    @property
    def uri(self) -> str:
        host, port = self.address
        return f"coap://[{host}]:{port}" if ":" in host else f"coap://{host}:{port}"

    # -- scripting ----------------------------------------------------------------------

    def answer_next(self, kind: str, *codes: int | None) -> None:
        """Answer the next ``kind`` requests with these codes (``None``: stay silent)."""
        self.scripted.setdefault(kind, deque()).extend(codes)

    def forget(self, endpoint: str) -> None:
        """Drop a device's registration: its next Update is answered 4.04."""
        location = self._locations.pop(endpoint, None)
        if location is not None:
            self.clients.pop(location, None)

    # -- seeing -------------------------------------------------------------------------

    def _queue(self, kind: str) -> asyncio.Queue[Seen]:
        queue = self._queues.get(kind)
        if queue is None:
            queue = self._queues[kind] = asyncio.Queue()
        return queue

    async def next(self, kind: str, timeout: float = WAIT) -> Seen:
        """The next ``kind`` request (already seen or still to come)."""
        return await asyncio.wait_for(self._queue(kind).get(), timeout)

    def pending(self, kind: str) -> int:
        """How many ``kind`` requests were seen and not yet taken with :meth:`next`."""
        return self._queue(kind).qsize()

    def count(self, kind: str) -> int:
        return sum(1 for s in self.seen if s.kind == kind)

    def client(self, endpoint: str) -> Client:
        client = self.clients.get(self._locations.get(endpoint, ""))
        if client is None:
            raise KeyError(f"{endpoint} is not registered")
        return client

    # -- the Registration interface and Send --------------------------------------------

    def _handle(self, request: Any) -> Any:
        path = tuple(request.opt.uri_path)
        code = request.code
        if path == ("rd",) and code == POST:
            return self._record("register", request, self._register)
        if len(path) == 2 and path[0] == "rd" and code == POST:
            return self._record("update", request, self._update)
        if len(path) == 2 and path[0] == "rd" and code == DELETE:
            return self._record("deregister", request, self._deregister)
        if path == ("dp",) and code == POST:
            return self._record("send", request, lambda r: Message(code=Code.CHANGED))
        return Message(code=Code.NOT_FOUND)

    def _record(self, kind: str, request: Any, act: Any) -> Any:
        scripted = self.scripted.get(kind)
        response: Any
        if scripted:
            forced = scripted.popleft()
            response = None if forced is None else Message(code=forced)
        else:
            response = act(request)
        location = "/".join(request.opt.uri_path[1:]) or None
        endpoint = _query_value(request.opt.uri_query, "ep")
        if endpoint is None and location is not None:
            client = self.clients.get(location)
            endpoint = client.endpoint if client is not None else None
        if response is not None and response.opt.location_path:
            location = "/".join(response.opt.location_path)
        answer = None if response is None else int(response.code)
        seen = Seen(kind, request, endpoint, location, answer)
        self.seen.append(seen)
        self._queue(kind).put_nowait(seen)
        return response

    def _register(self, request: Any) -> Any:
        query = tuple(request.opt.uri_query)
        endpoint = _query_value(query, "ep")
        if endpoint is None:
            return Message(code=Code.BAD_REQUEST)
        self.forget(endpoint)
        location = f"rd/{next(self._ids)}"
        self.clients[location] = Client(
            endpoint, location, tuple(request.remote), query, request.payload.decode()
        )
        self._locations[endpoint] = location
        return Message(code=Code.CREATED, location_path=tuple(location.split("/")))

    def _update(self, request: Any) -> Any:
        location = "/".join(request.opt.uri_path)
        client = self.clients.get(location)
        if client is None:
            return Message(code=Code.NOT_FOUND)
        client.address = tuple(request.remote)  # type: ignore[assignment]
        if request.payload:
            client.links = request.payload.decode()
        return Message(code=Code.CHANGED)

    def _deregister(self, request: Any) -> Any:
        location = "/".join(request.opt.uri_path)
        client = self.clients.pop(location, None)
        if client is None:
            return Message(code=Code.NOT_FOUND)
        self._locations.pop(client.endpoint, None)
        return Message(code=Code.DELETED)

    # -- Device Management --------------------------------------------------------------

    def _message(
        self,
        method: Any,
        path: str,
        *,
        payload: bytes = b"",
        content_format: int | None = None,
        accept: int | None = None,
        query: Sequence[str] = (),
        observe: int | None = None,
    ) -> Any:
        message = Message(code=method, payload=payload)
        segments = tuple(s for s in path.split("/") if s)
        if segments:
            message.opt.uri_path = segments
        if query:
            message.opt.uri_query = tuple(query)
        if content_format is not None:
            message.opt.content_format = content_format
        if accept is not None:
            message.opt.accept = accept
        if observe is not None:
            message.opt.observe = observe
        return message

    async def request(
        self,
        endpoint: str,
        method: Any,
        path: str,
        *,
        payload: bytes = b"",
        content_format: int | None = None,
        accept: int | None = None,
        query: Sequence[str] = (),
        observe: int | None = None,
        confirmable: bool = True,
    ) -> Any:
        """Send a request to a registered device and return its response."""
        message = self._message(
            method,
            path,
            payload=payload,
            content_format=content_format,
            accept=accept,
            query=query,
            observe=observe,
        )
        address = self.client(endpoint).address
        return await self.endpoint.request(message, address, confirmable=confirmable, timeout=WAIT)

    def observe(
        self,
        endpoint: str,
        path: str,
        *,
        method: Any = GET,
        payload: bytes = b"",
        content_format: int | None = None,
        accept: int | None = None,
        query: Sequence[str] = (),
    ) -> Observation:
        """Observe a path of a registered device (``method=FETCH`` for Observe-Composite)."""
        message = self._message(
            method,
            path,
            payload=payload,
            content_format=content_format,
            accept=accept,
            query=query,
        )
        return self.endpoint.observe(message, self.client(endpoint).address, timeout=WAIT)


def _query_value(query: Sequence[str], name: str) -> str | None:
    for item in query:
        key, _, value = item.partition("=")
        if key == name:
            return value
    return None


async def next_notification(observation: Observation, timeout: float = WAIT) -> Any:
    """The next notification of an observation (bounded wait)."""
    iterator = observation.__aiter__()
    return await asyncio.wait_for(iterator.__anext__(), timeout)


class EventLog:
    """A device listener keeping every client event; ``await log.next(Kind)`` takes them in order.

    Each kind has its own cursor: ``next(Updated)`` returns the first Updated event not
    returned before, waiting for it if it has not happened yet.
    """

    def __init__(self) -> None:
        self.events: list[Any] = []
        self._cursor: dict[type, int] = {}
        self._waiter: asyncio.Future[None] | None = None

    def __call__(self, event: Any) -> None:
        self.events.append(event)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def of(self, kind: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind)]

    def skip(self, kind: type) -> None:
        """Forget the events of ``kind`` so far: ``next`` waits for a new one."""
        self._cursor[kind] = len(self.events)

    async def next(self, kind: type, timeout: float = WAIT) -> Any:
        async def find() -> Any:
            while True:
                start = self._cursor.get(kind, 0)
                for index in range(start, len(self.events)):
                    if isinstance(self.events[index], kind):
                        self._cursor[kind] = index + 1
                        return self.events[index]
                self._cursor[kind] = len(self.events)
                self._waiter = asyncio.get_running_loop().create_future()
                await self._waiter

        return await asyncio.wait_for(find(), timeout)


def device_config(server: FakeServer, endpoint: str = "dev-1", **settings: Any) -> Any:
    """A DeviceConfig for a device of this server (settings as DeviceConfig takes them)."""
    from fleet.client.config import DeviceConfig

    return DeviceConfig(endpoint=endpoint, server=server.uri, **settings)


@contextlib.asynccontextmanager
async def registered_device(
    server: FakeServer,
    endpoint: str = "dev-1",
    *,
    clock: Any = None,
    rng: Any = None,
    log: EventLog | None = None,
    **settings: Any,
) -> AsyncIterator[Any]:
    """A started device, registered with ``server``; stopped (without De-register) after.

    ``log`` listens from before the start (so it sees the registration)."""
    from fleet.client.device import Device

    device = Device(
        device_config(server, endpoint, **settings),
        clock=clock if clock is not None else ManualClock(),
        rng=rng if rng is not None else random.Random(1),
    )
    if log is not None:
        device.add_listener(log)
    await device.start()
    try:
        await asyncio.wait_for(device.registered.wait(), WAIT)
        await server.next("register")
        yield device
    finally:
        await device.stop(deregister=False)


EP = "dev-1"
"""The endpoint of the ``device`` fixture (tests/client/conftest.py)."""
STRUCTURED_11 = [
    ContentFormat.TLV,
    ContentFormat.SENML_JSON,
    ContentFormat.SENML_CBOR,
    ContentFormat.LWM2M_JSON,
]
STRUCTURED_12 = [*STRUCTURED_11, ContentFormat.LWM2M_CBOR]


def code(response: object) -> str:
    """A response's code as the specification writes it, e.g. ``"2.05"``."""
    number = int(response.code)  # type: ignore[attr-defined]
    return f"{number >> 5}.{number & 31:02d}"


async def raw_replies(
    address: tuple[str, int], datagram: bytes, count: int, timeout: float = WAIT
) -> list[bytes]:
    """Send ``datagram`` from a bare UDP socket to ``address``; the first ``count`` replies."""
    loop = asyncio.get_running_loop()
    got: asyncio.Queue[bytes] = asyncio.Queue()

    class Peer(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
            got.put_nowait(data)

    transport, _ = await loop.create_datagram_endpoint(Peer, local_addr=("127.0.0.1", 0))
    try:
        transport.sendto(datagram, address)
        return [await asyncio.wait_for(got.get(), timeout) for _ in range(count)]
    finally:
        transport.close()
