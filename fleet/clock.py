"""Time for everything that waits: a :class:`Clock` protocol and two clocks.

Protocol logic never reads the wall clock or sleeps; it asks a ``Clock``.
:class:`LoopClock` follows the running asyncio loop (real runs);
:class:`ManualClock` only moves when a test calls :meth:`ManualClock.advance`,
so timing tests (pmin/pmax, lifetimes, generators) never wait real seconds.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

T = TypeVar("T")


class TimerHandle(Protocol):
    """What ``call_at`` returns: something that can be cancelled."""

    def cancel(self) -> None: ...


class Clock(Protocol):
    """Monotonic time in seconds plus scheduling, and the wall clock for timestamps."""

    def now(self) -> float:
        """Monotonic seconds."""
        ...

    def wall(self) -> float:
        """Seconds since the Unix epoch (what a device reports as Current Time)."""
        ...

    def call_at(self, when: float, callback: Callable[[], None]) -> TimerHandle:
        """Run ``callback`` once ``now()`` reaches ``when``."""
        ...

    async def sleep_until(self, when: float) -> None:
        """Wait until ``now()`` reaches ``when``."""
        ...


class LoopClock:
    """The real clock: the running asyncio loop's time and ``time.time()``."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    def now(self) -> float:
        return self.loop.time()

    def wall(self) -> float:
        return time.time()

    def call_at(self, when: float, callback: Callable[[], None]) -> TimerHandle:
        return self.loop.call_at(when, callback)

    async def sleep_until(self, when: float) -> None:
        delay = when - self.now()
        if delay > 0:
            await asyncio.sleep(delay)


class _ManualTimer:
    __slots__ = ("callback", "cancelled", "when")

    def __init__(self, when: float, callback: Callable[[], None]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class ManualClock:
    """A clock that moves only when told to; for tests.

    ``advance(dt)`` runs every due callback in time order, setting ``now()`` to
    each callback's due time while it runs. Waiters of :meth:`sleep_until` are
    woken through futures, so an ``await clock.advance(...)`` lets them run.
    """

    def __init__(self, start: float = 0.0, wall_start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._wall_offset = wall_start - start
        self._heap: list[tuple[float, int, _ManualTimer]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def wall(self) -> float:
        return self._now + self._wall_offset

    def call_at(self, when: float, callback: Callable[[], None]) -> TimerHandle:
        timer = _ManualTimer(when, callback)
        heapq.heappush(self._heap, (when, next(self._seq), timer))
        return timer

    def pending(self) -> int:
        """How many timers are still scheduled (cancelled ones excluded)."""
        return sum(1 for _, _, t in self._heap if not t.cancelled)

    def next_deadline(self) -> float | None:
        """When the next live timer is due, or ``None``."""
        for when, _, timer in sorted(self._heap):
            if not timer.cancelled:
                return when
        return None

    def advance_sync(self, seconds: float) -> None:
        """Move time forward, running due callbacks synchronously."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        target = self._now + seconds
        while self._heap and self._heap[0][0] <= target:
            when, _, timer = heapq.heappop(self._heap)
            if timer.cancelled:
                continue
            self._now = max(self._now, when)
            timer.callback()
        self._now = target

    async def advance(self, seconds: float) -> None:
        """Move time forward step by step, letting woken tasks run at each step."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        target = self._now + seconds
        await _settle()
        while self._heap and self._heap[0][0] <= target:
            when, _, timer = heapq.heappop(self._heap)
            if timer.cancelled:
                continue
            self._now = max(self._now, when)
            timer.callback()
            await _settle()
        self._now = target
        await _settle()

    async def sleep_until(self, when: float) -> None:
        if when <= self._now:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def wake() -> None:
            if not future.done():
                future.set_result(None)

        timer = self.call_at(when, wake)
        try:
            await future
        finally:
            timer.cancel()


async def wait_for(clock: Clock, awaitable: Awaitable[T], timeout: float | None) -> T:
    """``asyncio.wait_for`` on ``clock``'s time: ``awaitable``'s result, or ``TimeoutError``
    (``awaitable`` cancelled) once ``timeout`` seconds of ``clock`` have passed first.
    ``None`` waits as long as it takes; cancelling the caller cancels ``awaitable`` too."""
    task = asyncio.ensure_future(awaitable)
    if timeout is None or task.done():
        return await task
    expired = False

    def expire() -> None:
        nonlocal expired
        if not task.done():
            expired = True
            task.cancel()

    timer = clock.call_at(clock.now() + timeout, expire)
    try:
        return await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if expired and (current is None or not current.cancelling()):
            raise TimeoutError(f"not done within {timeout:g} s") from None
        raise
    finally:
        timer.cancel()


async def _settle(rounds: int = 5) -> None:
    """Give ready tasks a few turns of the loop (no time passes)."""
    for _ in range(rounds):
        await asyncio.sleep(0)
