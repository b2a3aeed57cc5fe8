"""What the suites of the server's application sides share (tests/http, tests/platform).

Both run a real embedded server that reads ``/3`` and ``/6`` of each device that
registers, and start real devices against it, each awaited until its registration and
the server's reads after it are done; at the end every device stops without a
De-register (the server is going away too).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar

from fleet.server import Lwm2mServer

WAIT = 5.0


@asynccontextmanager
async def reading_server() -> AsyncIterator[Lwm2mServer]:
    """The embedded server, reading /3 and /6 on every Register, requests bounded by 5 s."""
    async with await Lwm2mServer.start(read_on_register=("/3", "/6"), request_timeout=5.0) as s:
        yield s


class Startable(Protocol):
    async def start(self) -> None: ...

    async def stop(self, *, deregister: bool = True) -> None: ...


D = TypeVar("D", bound=Startable)


async def started_devices(
    server: Lwm2mServer, build: Callable[..., D], default_name: str
) -> AsyncIterator[Callable[..., Awaitable[D]]]:
    """For a fixture: ``make(name, **config)`` builds a device with ``build(name, **config)``,
    starts it and waits for its registration (hooks included); the fixture's teardown stops
    every device made."""
    made: list[D] = []

    async def make(name: str = default_name, **kw: Any) -> D:
        device = build(name, **kw)
        made.append(device)
        await device.start()
        await server.wait_for_registration(name, WAIT, hooks=True)
        return device

    yield make
    for device in made:
        await asyncio.wait_for(device.stop(deregister=False), WAIT)
