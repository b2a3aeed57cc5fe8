"""Fixtures for the embedded server's tests: a server on loopback and fake devices."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest_asyncio

from fleet.server import Lwm2mServer
from tests.server.fakes import FakeDevice

DeviceFactory = Callable[..., Awaitable[FakeDevice]]


@pytest_asyncio.fixture
async def server() -> AsyncIterator[Lwm2mServer]:
    """A server on the real loop clock; requests give up after 5 s at the latest."""
    async with await Lwm2mServer.start(request_timeout=5.0) as started:
        yield started


@pytest_asyncio.fixture
async def make_device(server: Lwm2mServer) -> AsyncIterator[DeviceFactory]:
    """``await make_device("dev1", lwm2m="1.0")``: a fake device, registered with ``server``."""
    made: list[FakeDevice] = []

    async def make(name: str = "dev1", *, register: bool = True, **kw: Any) -> FakeDevice:
        device = await FakeDevice.start(server.address, name, **kw)
        made.append(device)
        if register:
            response = await device.register()
            assert response.code.dotted == "2.01", response
            await server.wait_for_registration(name, timeout=5.0, hooks=True)
        return device

    yield make
    for device in made:
        device.close()


@pytest_asyncio.fixture
async def device(make_device: DeviceFactory) -> FakeDevice:
    """A registered LwM2M 1.1 fake device named dev1."""
    return await make_device("dev1")
