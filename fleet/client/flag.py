"""Small asyncio helpers of the client: an awaitable flag, and one loop clock per event loop."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Generator
from typing import Any

from fleet.clock import LoopClock


class Flag:
    """Something that is or is not the case, and can be awaited until it is.

    Cheaper than an ``asyncio.Event`` while nobody waits (two slots, no loop
    reference), which matters for ten thousand devices.
    """

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = False
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> None:
        """Return once the flag is set."""
        while not self._set:
            waiter = asyncio.get_running_loop().create_future()
            if self._waiters is None:
                self._waiters = []
            self._waiters.append(waiter)
            await waiter

    def __await__(self) -> Generator[Any, None, None]:
        return self.wait().__await__()

    def __bool__(self) -> bool:
        return self._set


_LOOP_CLOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopClock] = (
    weakref.WeakKeyDictionary()
)


def shared_loop_clock() -> LoopClock:
    """The running loop's clock, one object shared by every device on that loop."""
    loop = asyncio.get_running_loop()
    clock = _LOOP_CLOCKS.get(loop)
    if clock is None:
        clock = _LOOP_CLOCKS[loop] = LoopClock(loop)
    return clock
