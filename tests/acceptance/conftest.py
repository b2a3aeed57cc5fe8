"""Fixtures for the acceptance tests: a real :class:`Device` against a real :class:`Lwm2mServer`.

Both talk real UDP on loopback and share one :class:`~fleet.clock.ManualClock`, so that protocol
time (pmin/pmax, lifetimes, CoAP retransmissions) moves only when a test says so. Waiting for the
network is bounded in real seconds (:data:`WAIT`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import pytest_asyncio

from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.clock import ManualClock
from fleet.server import Lwm2mServer

WAIT = 5.0
"""Real seconds any one network exchange may take on loopback."""

T = TypeVar("T")
DeviceFactory = Callable[..., Awaitable[Device]]


async def within(awaitable: Awaitable[T], seconds: float = WAIT) -> T:
    """``awaitable``, bounded in real seconds."""
    return await asyncio.wait_for(awaitable, seconds)


@pytest_asyncio.fixture
async def clock() -> ManualClock:
    return ManualClock()


@pytest_asyncio.fixture
async def server(clock: ManualClock) -> AsyncIterator[Lwm2mServer]:
    """An embedded server on the manual clock, reading /3 and /6 after every Register."""
    async with await Lwm2mServer.start(clock=clock, read_on_register=("/3", "/6")) as started:
        yield started


@pytest_asyncio.fixture
async def make_device(clock: ManualClock, server: Lwm2mServer) -> AsyncIterator[DeviceFactory]:
    """``await make_device("dev1", lwm2m_version="1.0")``: a started, registered Device
    (the server's on-register reads done); stopped (de-registered) at the end."""
    made: list[Device] = []

    async def make(name: str = "dev1", **config: Any) -> Device:
        device = Device(DeviceConfig(name, server=server.uri, **config), clock=clock)
        made.append(device)
        await device.start()
        await within(device.registered.wait())
        await server.wait_for_registration(name, timeout=WAIT, hooks=True)
        return device

    yield make
    for device in made:
        if device.endpoint is not None:
            await within(device.stop())
