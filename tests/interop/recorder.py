"""``Recorder``: a device listener keeping its events, awaitable by type (interop tests)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from fleet.client.events import ClientEvent

WAIT = 10.0  # real seconds; only reached when a test is about to fail

E = TypeVar("E", bound=ClientEvent)


class Recorder:
    """The device's events, awaitable by type."""

    def __init__(self) -> None:
        self.events: list[ClientEvent] = []
        self._arrived = asyncio.Event()

    def __call__(self, event: ClientEvent) -> None:
        self.events.append(event)
        self._arrived.set()

    async def first(
        self, kind: type[E], where: Callable[[E], bool] | None = None, timeout: float = WAIT
    ) -> E:
        async def until_seen() -> E:
            while True:
                self._arrived.clear()
                for event in self.events:
                    if isinstance(event, kind) and (where is None or where(event)):
                        return event
                await self._arrived.wait()

        return await asyncio.wait_for(until_seen(), timeout)
