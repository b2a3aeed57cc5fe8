"""Fixtures of the firmware tests: a server, a file server and devices with Object 5.

Server, file server and devices share one :class:`~fleet.clock.ManualClock`; network
waits are bounded in real seconds (:data:`WAIT`), reached only when a test fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeVar

import pytest_asyncio

from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.events import ClientEvent
from fleet.clock import ManualClock
from fleet.device.layout import DeviceLayout
from fleet.server import Lwm2mServer
from fleet.server.campaign.files import FileServer

WAIT = 10.0
T = TypeVar("T")
FIRMWARE_LAYOUT = DeviceLayout.of({0: [0], 1: [0], 3: [0], 4: [0], 5: [0]})
DeviceFactory = Callable[..., Awaitable[Device]]


async def within(awaitable: Awaitable[T], seconds: float = WAIT) -> T:
    return await asyncio.wait_for(awaitable, seconds)


class EventLog:
    """The client events of a device; :meth:`next` awaits the next one of a kind not yet
    taken (it may have come already)."""

    def __init__(self, device: Device) -> None:
        self.events: list[ClientEvent] = []
        self._taken: dict[type[Any], int] = {}
        self._changed = asyncio.Event()
        device.add_listener(self._hear)

    def _hear(self, event: ClientEvent) -> None:
        self.events.append(event)
        self._changed.set()

    def of(self, kind: type[T]) -> list[T]:
        return [e for e in self.events if isinstance(e, kind)]

    async def next(self, kind: type[T], seconds: float = WAIT) -> T:
        async def first() -> T:
            while True:
                seen = self.of(kind)
                taken = self._taken.get(kind, 0)
                if len(seen) > taken:
                    self._taken[kind] = taken + 1
                    return seen[taken]
                self._changed.clear()
                await self._changed.wait()

        return await within(first(), seconds)


@pytest_asyncio.fixture
async def clock() -> ManualClock:
    return ManualClock()


@pytest_asyncio.fixture
async def server(clock: ManualClock) -> AsyncIterator[Lwm2mServer]:
    async with await Lwm2mServer.start(clock=clock, read_on_register=("/3",)) as started:
        yield started


@pytest_asyncio.fixture
async def files(clock: ManualClock) -> AsyncIterator[FileServer]:
    started = await FileServer.start(clock=clock)
    yield started
    started.close()


@pytest_asyncio.fixture
async def make_device(clock: ManualClock, server: Lwm2mServer) -> AsyncIterator[DeviceFactory]:
    """``await make_device("fw1", firmware=FirmwareSettings(...))``: registered, with /4 and /5."""
    made: list[Device] = []

    async def make(name: str = "fw1", **config: Any) -> Device:
        config.setdefault("server", server.uri)
        config.setdefault("layout", FIRMWARE_LAYOUT)
        device = Device(DeviceConfig(name, **config), clock=clock)
        made.append(device)
        await device.start()
        await within(device.registered.wait())
        await server.wait_for_registration(name, timeout=WAIT, hooks=True)
        return device

    yield make
    for device in made:
        if device.endpoint is not None:
            await within(device.stop(deregister=False))
