"""A real embedded server, the HTTP stand-in on a free loopback port, virtual devices over UDP,
and an aiohttp client that speaks to the stand-in as an application would."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest_asyncio

from fleet.server import Lwm2mServer
from fleet.server.http import HttpServer, StandIn
from fleet.server.http.resources import ContentInstance
from fleet.testing.virtual import VirtualDevice, device_config
from tests.serving import WAIT, reading_server, started_devices

HEADERS = {
    "Accept": "application/json",
    "Content-Type": "application/json;ty=4",
    "X-M2M-Origin": "CTestApp",
    "X-M2M-RI": "123",
}
VALUES = {
    "/3/0/0": "My Demo Device",
    "/3/0/1": "Model 500",
    "/3/0/2": "LT-500-000-0001",
    "/3/0/3": "1.0.0",
    "/3/0/19": "1.0.2",
    "/6/0/0": 52.52,
    "/6/0/1": 13.405,
    "/3303/0/5700": 21.5,
}


class Api:
    """The stand-in seen from an application: paths under the tenant, JSON in and out."""

    def __init__(self, session: aiohttp.ClientSession, http: HttpServer, standin: StandIn) -> None:
        self.session = session
        self.http = http
        self.base = http.api_url
        self.standin = standin

    async def request(
        self, method: str, path: str, *, body: Any = None, data: bytes | None = None, **kw: Any
    ) -> tuple[int, Any, aiohttp.typedefs.LooseHeaders]:
        headers = dict(HEADERS)
        headers.update(kw.pop("headers", {}))
        if body is not None:
            data = json.dumps(body).encode()
        url = path if path.startswith("http") else self.base + path
        async with self.session.request(method, url, data=data, headers=headers, **kw) as reply:
            text = await reply.text()
            try:
                decoded = json.loads(text)
            except ValueError:
                decoded = text
            return reply.status, decoded, reply.headers

    async def post(self, device: str, con: Any, cnf: str | None = None) -> dict[str, Any]:
        """POST an outgoing message (201 expected); its contentInstance."""
        cin: dict[str, Any] = {"con": con}
        if cnf is not None:
            cin["cnf"] = cnf
        path = f"/device-communication/{device}/outgoing-msg"
        status, body, _ = await self.request("POST", path, body={"m2m:cin": cin})
        assert status == 201, body
        return dict(body["contentInstance"])

    async def run(self, device: str, con: Any, cnf: str | None = None) -> dict[str, Any]:
        """POST and wait until every command of it has been answered."""
        posted = await self.post(device, con, cnf)
        await asyncio.wait_for(self.standin.drain(), WAIT)
        return posted

    async def latest(self, device: str, container: str) -> dict[str, Any]:
        status, body, _ = await self.request(
            "GET", f"/device-communication/{device}/{container}/la"
        )
        assert status == 200, body
        return dict(body["contentInstance"])

    async def listing(self, device: str, container: str) -> list[dict[str, Any]]:
        status, body, _ = await self.request("GET", f"/device-communication/{device}/{container}")
        assert status == 200, body
        return list(body["container"]["contentInstance"])

    def expect(self, match: Callable[[ContentInstance], bool]) -> Awaitable[ContentInstance]:
        """A future of the next instance filed that matches (subscribed now)."""
        future: asyncio.Future[ContentInstance] = asyncio.get_running_loop().create_future()

        def offer(instance: ContentInstance) -> None:
            if not future.done() and match(instance):
                future.set_result(instance)
                remove()

        remove = self.standin.store.listen(offer)
        return asyncio.wait_for(future, WAIT)


def received(device: str, message_type: str) -> Callable[[ContentInstance], bool]:
    def match(instance: ContentInstance) -> bool:
        content = instance.content
        return bool(
            instance.container == "received-msg"
            and instance.endpoint == device
            and content.get("messageType") == message_type
        )

    return match


@pytest_asyncio.fixture
async def server() -> AsyncIterator[Lwm2mServer]:
    async with reading_server() as s:
        yield s


@pytest_asyncio.fixture
async def standin(server: Lwm2mServer) -> AsyncIterator[StandIn]:
    made = StandIn(server, timeout=0.5)
    yield made
    await made.close()


async def _api(standin: StandIn, token: str | None) -> AsyncIterator[Api]:
    http = await HttpServer.start(standin, "127.0.0.1", 0, token=token)
    try:
        async with aiohttp.ClientSession() as session:
            yield Api(session, http, standin)
    finally:
        await http.stop()


@pytest_asyncio.fixture
async def api(standin: StandIn) -> AsyncIterator[Api]:
    async for made in _api(standin, None):
        yield made


@pytest_asyncio.fixture
async def secured(standin: StandIn) -> AsyncIterator[Api]:
    async for made in _api(standin, "s3cret-token"):
        yield made


DeviceFactory = Callable[..., Awaitable[VirtualDevice]]


@pytest_asyncio.fixture
async def make_device(server: Lwm2mServer, standin: StandIn) -> AsyncIterator[DeviceFactory]:
    """Devices started once the stand-in listens (it files their registration)."""

    def build(name: str, **kw: Any) -> VirtualDevice:
        values = dict(VALUES)
        values.update(kw.pop("values", {}))
        return VirtualDevice(device_config(name, server=server.uri, values=values, **kw))

    async for make in started_devices(server, build, "device001"):
        yield make


@pytest_asyncio.fixture
async def device(make_device: DeviceFactory) -> VirtualDevice:
    return await make_device("device001", lifetime=60)
