"""Interop with aiocoap's own engine (software we did not write): its client Context against
our endpoint, and our endpoint as a client against its server Context, including observe."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiocoap import Context, Message
from aiocoap.numbers.codes import Code
from aiocoap.resource import ObservableResource, Resource, Site

from fleet.client.coap import CoapEndpoint

from .helpers import RECEIVE_TIMEOUT

pytestmark = [pytest.mark.asyncio, pytest.mark.interop]

BIG = bytes(i % 241 for i in range(3000))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# -- aiocoap's client against our endpoint -------------------------------------------------


class Device:
    """A small handler: text values, a writable resource, a large one, an observable one."""

    def __init__(self) -> None:
        self.written = b"initial"
        self.endpoint: CoapEndpoint | None = None
        self.observers: list[tuple[Any, bytes]] = []

    def __call__(self, request: Any) -> Any:
        path = request.opt.uri_path
        if path == ("big",):
            return Message(code=Code.CONTENT, payload=BIG)
        if path == ("value",):
            if request.code == Code.PUT:
                self.written = request.payload
                return Message(code=Code.CHANGED)
            accept = request.opt.accept
            if accept is not None and accept != 0:
                return Message(code=Code.NOT_ACCEPTABLE)
            return Message(code=Code.CONTENT, payload=self.written, content_format=0)
        if path == ("temp",):
            response = Message(code=Code.CONTENT, payload=b"20.0", content_format=0)
            if request.opt.observe == 0:
                response.opt.observe = 0
                self.observers.append((request.remote, request.token))
            return response
        return Message(code=Code.NOT_FOUND)


@pytest_asyncio.fixture
async def aiocoap_client() -> AsyncIterator[Any]:
    context = await Context.create_client_context(transports=["udp6"])
    try:
        yield context
    finally:
        await context.shutdown()


async def test_aiocoap_client_reads_writes_and_gets_blocks(aiocoap_client: Any) -> None:
    device = Device()
    endpoint = await CoapEndpoint.bind("127.0.0.1", handler=device)
    base = f"coap://127.0.0.1:{endpoint.address[1]}"
    try:
        request = Message(code=Code.PUT, uri=f"{base}/value", payload=b"Hello", content_format=0)
        response = await asyncio.wait_for(aiocoap_client.request(request).response, 10)
        assert response.code == Code.CHANGED and device.written == b"Hello"
        read = Message(code=Code.GET, uri=f"{base}/value", accept=0)
        response = await asyncio.wait_for(aiocoap_client.request(read).response, 10)
        assert (response.code, response.payload) == (Code.CONTENT, b"Hello")
        read = Message(code=Code.GET, uri=f"{base}/value", accept=60)
        response = await asyncio.wait_for(aiocoap_client.request(read).response, 10)
        assert response.code == Code.NOT_ACCEPTABLE
        big = Message(code=Code.GET, uri=f"{base}/big")
        response = await asyncio.wait_for(aiocoap_client.request(big).response, 10)
        assert response.payload == BIG
    finally:
        endpoint.close()


async def test_aiocoap_client_observes_our_endpoint(aiocoap_client: Any) -> None:
    device = Device()
    endpoint = await CoapEndpoint.bind("127.0.0.1", handler=device)
    try:
        uri = f"coap://127.0.0.1:{endpoint.address[1]}/temp"
        request = aiocoap_client.request(Message(code=Code.GET, uri=uri, observe=0))
        first = await asyncio.wait_for(request.response, 10)
        assert first.payload == b"20.0" and first.opt.observe is not None
        remote, token = device.observers[0]
        notes = aiter(request.observation)
        for value, confirmable in ((b"21.0", False), (b"22.0", True)):
            sent = endpoint.notify(
                remote, token, Message(code=Code.CONTENT, payload=value), confirmable=confirmable
            )
            received = await asyncio.wait_for(anext(notes), RECEIVE_TIMEOUT)
            assert received.payload == value
            assert await asyncio.wait_for(sent, RECEIVE_TIMEOUT) is True
        request.observation.cancel()
    finally:
        endpoint.close()


# -- our endpoint against aiocoap's server ---------------------------------------------------


class Text(Resource):  # type: ignore[misc]
    def __init__(self, payload: bytes, delay: float = 0.0) -> None:
        super().__init__()
        self.payload = payload
        self.delay = delay

    async def render_get(self, request: Any) -> Any:
        if self.delay:
            await asyncio.sleep(self.delay)  # slower than aiocoap's empty-ACK delay
        return Message(code=Code.CONTENT, payload=self.payload)

    async def render_post(self, request: Any) -> Any:
        return Message(code=Code.CHANGED, payload=request.payload.upper())


class Counter(ObservableResource):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__()
        self.value = 0
        self.observer_counts: list[int] = []
        self.count_changed = asyncio.Event()

    def update_observation_count(self, newcount: int) -> None:
        self.observer_counts.append(newcount)
        self.count_changed.set()

    async def render_get(self, request: Any) -> Any:
        return Message(code=Code.CONTENT, payload=str(self.value).encode())


@pytest_asyncio.fixture
async def aiocoap_server() -> AsyncIterator[tuple[tuple[str, int], Counter]]:
    counter = Counter()
    site = Site()
    site.add_resource(["hello"], Text(b"hello"))
    site.add_resource(["slow"], Text(b"slow", delay=0.3))
    site.add_resource(["big"], Text(BIG))
    site.add_resource(["counter"], counter)
    port = free_port()
    context = await Context.create_server_context(
        site, bind=("127.0.0.1", port), transports=["udp6"]
    )
    try:
        yield ("127.0.0.1", port), counter
    finally:
        await context.shutdown()


async def test_our_client_against_aiocoap_server(aiocoap_server: Any) -> None:
    address, _ = aiocoap_server
    client = await CoapEndpoint.bind("127.0.0.1")
    try:
        response = await client.request(Message(code=Code.GET, uri_path=("hello",)), address)
        assert (response.code, response.payload) == (Code.CONTENT, b"hello")
        post = Message(code=Code.POST, uri_path=("hello",), payload=b"abc")
        assert (await client.request(post, address, confirmable=False)).payload == b"ABC"
        response = await client.request(Message(code=Code.GET, uri_path=("big",)), address)
        assert response.payload == BIG
        response = await client.request(Message(code=Code.GET, uri_path=("slow",)), address)
        assert response.payload == b"slow" and response.mtype == 0  # a separate CON response
        missing = await client.request(Message(code=Code.GET, uri_path=("nope",)), address)
        assert missing.code == Code.NOT_FOUND
        assert client.stats().outstanding == 0 and client.stats().exchanges == 0
    finally:
        client.close()


async def test_our_client_observes_aiocoap_server(aiocoap_server: Any) -> None:
    address, counter = aiocoap_server
    client = await CoapEndpoint.bind("127.0.0.1")
    try:
        observation = client.observe(Message(code=Code.GET, uri_path=("counter",)), address)
        first = await asyncio.wait_for(observation.response, RECEIVE_TIMEOUT)
        assert first.payload == b"0" and first.opt.observe is not None
        for value in (1, 2):
            counter.value = value
            counter.updated_state()
            received = await asyncio.wait_for(anext(observation), RECEIVE_TIMEOUT)
            assert received.payload == str(value).encode()
        assert counter.observer_counts[-1] == 1
        counter.count_changed.clear()
        response = await observation.cancel(timeout=RECEIVE_TIMEOUT)
        assert response.code == Code.CONTENT
        await asyncio.wait_for(counter.count_changed.wait(), RECEIVE_TIMEOUT)
        assert counter.observer_counts[-1] == 0
    finally:
        client.close()
