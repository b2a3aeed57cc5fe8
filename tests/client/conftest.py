"""Fixtures shared by the client tests: the fake LwM2M server and a registered 1.2 device."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from fleet.client.device import Device

from .fakes import EP, FakeServer, registered_device


@pytest_asyncio.fixture
async def server() -> AsyncIterator[FakeServer]:
    server = await FakeServer.start()
    yield server
    server.close()


@pytest_asyncio.fixture
async def device(server: FakeServer) -> AsyncIterator[Device]:
    async with registered_device(server, EP, lwm2m_version="1.2") as device:
        yield device
