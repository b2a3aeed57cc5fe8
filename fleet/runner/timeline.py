"""A shard's run events in time order, behind the one clock timer the shard keeps.

A :class:`~fleet.runner.shard.Shard` has a single :class:`~fleet.clock.Clock` timer for
everything it schedules. :class:`Timeline` holds the *run events* (a device arrives,
leaves or comes back: a :class:`Step` for a device index at a run time) on a heap, ties
broken by the order they were pushed, and sets that timer to the earliest of its first
event and one more deadline the shard names (its value generators' next one); when it
goes off, the shard takes the events that are due with :meth:`Timeline.due` and arms it
again.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Iterator
from enum import Enum

from fleet.clock import Clock, TimerHandle


class Step(Enum):
    """What happens to a device at a run event."""

    ARRIVE = "arrive"
    LEAVE = "leave"
    BACK = "back"


class Timeline:
    """Run events on a heap and the timer for the earliest (see the module docstring)."""

    __slots__ = ("_clock", "_fire", "_heap", "_order", "_timer", "_timer_at")

    def __init__(self, clock: Clock, fire: Callable[[], None]) -> None:
        """``fire()`` is called when the timer goes off (run time reached)."""
        self._clock = clock
        self._fire = fire
        self._heap: list[tuple[float, int, Step, int]] = []
        self._order = itertools.count()
        self._timer: TimerHandle | None = None
        self._timer_at = math.inf

    def push(self, when: float, step: Step, index: int) -> None:
        """``step`` for device ``index`` at run time ``when``."""
        heapq.heappush(self._heap, (when, next(self._order), step, index))

    def due(self, now: float) -> Iterator[tuple[float, Step, int]]:
        """Take the events due by run time ``now``, earliest first; those pushed while
        taking, if due too, come in turn."""
        while self._heap and self._heap[0][0] <= now:
            when, _, step, index = heapq.heappop(self._heap)
            yield when, step, index

    def arm(self, origin: float, deadline: float | None) -> None:
        """Set the timer to the earliest of the first event and ``deadline`` (run times;
        ``origin``: the clock time of run time 0); a timer already set there stays."""
        when = self._heap[0][0] if self._heap else math.inf
        if deadline is not None:
            when = min(when, deadline)
        if when == self._timer_at and self._timer is not None:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = when
        if when < math.inf:
            self._timer = self._clock.call_at(origin + when, self._fired)

    def close(self) -> None:
        """No more events: the timer cancelled, the heap emptied."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._heap.clear()

    def _fired(self) -> None:
        self._timer = None
        self._timer_at = math.inf
        self._fire()
