"""A real embedded server with a platform console, and real virtual devices over UDP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest_asyncio

from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.server import Lwm2mServer
from fleet.server.platform import Console, Message
from tests.serving import WAIT, reading_server, started_devices


class Recorder:
    """Collects what the console emits; ``await until(predicate)`` waits for a message."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.said: list[Any] = []
        self._waiters: list[tuple[Callable[[Message], bool], asyncio.Future[Message]]] = []

    def emit(self, message: Message) -> None:
        self.messages.append(message)
        for match, future in list(self._waiters):
            if not future.done() and match(message):
                future.set_result(message)

    def expect(self, match: Callable[[Message], bool]) -> asyncio.Future[Message]:
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        for message in self.messages:
            if match(message):
                future.set_result(message)
                return future
        self._waiters.append((match, future))
        return future

    async def until(self, match: Callable[[Message], bool]) -> Message:
        return await asyncio.wait_for(self.expect(match), WAIT)

    def of_type(self, kind: str) -> list[Message]:
        return [m for m in self.messages if m["content"]["messageType"] == kind]


def kind_is(kind: str, endpoint: str = "dev1") -> Callable[[Message], bool]:
    def match(message: Message) -> bool:
        content = message["content"]
        return bool(content["messageType"] == kind and content["nodeResourceName"] == endpoint)

    return match


@pytest_asyncio.fixture
async def server() -> AsyncIterator[Lwm2mServer]:
    async with reading_server() as s:
        yield s


@pytest_asyncio.fixture
async def recorder() -> Recorder:
    return Recorder()


@pytest_asyncio.fixture
async def console(server: Lwm2mServer, recorder: Recorder) -> AsyncIterator[Console]:
    made = Console(server, recorder.emit, say=recorder.said.append, timeout=0.5)
    yield made
    made.close()


DeviceFactory = Callable[..., Awaitable[Device]]


@pytest_asyncio.fixture
async def make_device(server: Lwm2mServer) -> AsyncIterator[DeviceFactory]:
    def build(name: str, **kw: Any) -> Device:
        return Device(DeviceConfig(endpoint=name, server=server.uri, **kw))

    async for make in started_devices(server, build, "dev1"):
        yield make


@pytest_asyncio.fixture
async def device(make_device: DeviceFactory) -> Device:
    return await make_device("dev1", lifetime=60)
