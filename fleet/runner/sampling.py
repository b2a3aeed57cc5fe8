"""The time series of a running shard: one :class:`~fleet.metrics.timeseries.Interval` per tick.

:class:`Sampler` ticks on the shard's clock at run seconds ``interval``,
``2 * interval``, ... (fixed times, so a slow tick does not shift the next
ones), each time reading the shard's device states and handing the record of
the interval just ended to ``sink``. :meth:`Sampler.finish`, called once the
shard has stopped (every device de-registered), emits the last, shorter
record, so the records add up to the run's summary. The same sampler runs in
``fleet run`` (one process) and in each worker process (which sends its
records to the parent; :mod:`fleet.runner.workers` merges them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from fleet.clock import Clock
from fleet.metrics import RunMetrics
from fleet.metrics.timeseries import DEFAULT_INTERVAL, Interval, IntervalRecorder
from fleet.runner.shard import Shard

Sink = Callable[[Interval], None]


class Sampler:
    """Samples ``shard`` every ``interval`` seconds into ``sink`` (see the module doc)."""

    def __init__(
        self,
        shard: Shard,
        metrics: RunMetrics,
        sink: Sink,
        *,
        clock: Clock,
        interval: float = DEFAULT_INTERVAL,
    ) -> None:
        self.shard = shard
        self.sink = sink
        self.clock = clock
        self.recorder = IntervalRecorder(
            metrics, interval=interval, wall=clock.wall() - shard.run_time()
        )
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.ensure_future(self._loop())

    def sample(self) -> Interval:
        """Emit the record of the interval up to now."""
        record = self.recorder.sample(self.shard.run_time(), self.shard.states())
        self.sink(record)
        return record

    async def _loop(self) -> None:
        origin = self.clock.now() - self.shard.run_time()
        ticks = 0
        while True:
            ticks += 1
            await self.clock.sleep_until(origin + ticks * self.recorder.interval)
            self.sample()

    async def finish(self) -> Interval:
        """Stop ticking and emit the last record (call after the shard stopped)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        return self.sample()
