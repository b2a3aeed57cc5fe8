"""The fleet supervisor: run a scenario's shard until the end (or a stop), then summarise.

:class:`Fleet` runs every device of a scenario in this process on one
:class:`~fleet.runner.shard.Shard` (several shard processes and
``--shard-index/--shard-count`` are not done yet; the planning for them is
in :mod:`fleet.runner.planning`). :meth:`Fleet.run` starts the shard, waits
for the scenario's ``duration`` (forever without one) or for ``stop`` to be
set (Ctrl-C), stops the shard — every device de-registers first — and
returns the :class:`~fleet.metrics.Summary` with the thresholds evaluated.

Exit statuses of ``fleet run`` (:func:`exit_status`):

=====  ============================================================
0      the run ended and no threshold failed
1      the run could not be done (e.g. a socket could not be opened)
2      invalid scenario or command line (nothing was started)
99     the run ended and at least one threshold failed
130    the run was aborted (Ctrl-C / SIGTERM) after de-registering
=====  ============================================================
"""

from __future__ import annotations

import asyncio
import logging
import math
import pathlib
from collections.abc import Callable, Iterable
from typing import Any, Final

from fleet.clock import Clock, LoopClock
from fleet.metrics import RunMetrics, Summary, ThresholdLine
from fleet.runner.shard import DeviceFactory, Shard, client_device
from fleet.scenario import Scenario, Threshold, evaluate

_log = logging.getLogger("fleet.runner")

EXIT_OK: Final = 0
EXIT_ERROR: Final = 1
EXIT_INVALID_SCENARIO: Final = 2
EXIT_THRESHOLDS_FAILED: Final = 99
EXIT_ABORTED: Final = 130
"""128 + SIGINT, as shells report a command interrupted by Ctrl-C."""

SOCKETS_SPARE: Final = 64
"""File descriptors kept aside for everything that is not a device socket."""


def exit_status(summary: Summary) -> int:
    """The exit status of a finished run (see the module documentation)."""
    if summary.aborted:
        return EXIT_ABORTED
    if any(not line.passed for line in summary.thresholds):
        return EXIT_THRESHOLDS_FAILED
    return EXIT_OK


def evaluate_thresholds(
    summary: Summary, thresholds: Iterable[Threshold]
) -> tuple[ThresholdLine, ...]:
    """Every threshold judged on the summary's named metrics."""
    views = summary.metrics()
    lines = []
    for threshold in thresholds:
        result = evaluate(threshold, views[threshold.metric])
        lines.append(
            ThresholdLine(
                threshold.metric, threshold.expression, result.observed, result.status.value
            )
        )
    return tuple(lines)


def raise_open_file_limit(needed: int) -> int:
    """Raise the soft open-file limit to the hard one; return the limit now in force.

    Logs a warning when ``needed`` sockets (plus :data:`SOCKETS_SPARE`) do not fit.
    """
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return needed + SOCKETS_SPARE
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, needed + SOCKETS_SPARE)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError) as error:  # pragma: no cover - depends on the system
            _log.warning("cannot raise the open-file limit: %s", error)
    if needed + SOCKETS_SPARE > soft:
        _log.warning(
            "%d devices need about %d open files but the limit is %d (ulimit -n): "
            "devices beyond it will fail to start",
            needed,
            needed + SOCKETS_SPARE,
            soft,
        )
    return int(soft)


class Fleet:
    """Runs one scenario in this process (see the module documentation)."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        clock: Clock | None = None,
        metrics: RunMetrics | None = None,
        factory: DeviceFactory = client_device,
        drain: float = 5.0,
    ) -> None:
        self.scenario = scenario
        self._clock = clock
        self.metrics = metrics if metrics is not None else RunMetrics()
        self.factory = factory
        self.drain = drain
        self.shard: Shard | None = None

    async def run(
        self,
        stop: asyncio.Event | None = None,
        *,
        on_started: Callable[[Shard], None] | None = None,
    ) -> Summary:
        """Run until the scenario's duration has passed or ``stop`` is set; return the summary."""
        clock = self._clock if self._clock is not None else LoopClock()
        scenario = self.scenario
        raise_open_file_limit(scenario.device_count)
        shard = Shard(
            scenario, clock=clock, metrics=self.metrics, factory=self.factory, drain=self.drain
        )
        self.shard = shard
        wall = clock.wall()
        started = clock.now()
        shard.start()
        if on_started is not None:
            on_started(shard)
        aborted = await self._wait(clock, started, stop)
        elapsed = clock.now() - started
        if aborted:
            _log.warning("run aborted after %.1f s: de-registering every device", elapsed)
        shard.update_device_metrics()
        await shard.stop()
        shard.update_device_metrics()
        summary = Summary.from_metrics(
            self.metrics,
            scenario=pathlib.PurePath(scenario.source).stem or scenario.description,
            seed=scenario.seed,
            started=wall,
            duration=elapsed,
            devices=scenario.device_count,
            aborted=aborted,
        )
        summary.thresholds = evaluate_thresholds(summary, scenario.thresholds)
        return summary

    async def _wait(self, clock: Clock, started: float, stop: asyncio.Event | None) -> bool:
        """Wait for the end of the run; ``True`` when ``stop`` came first."""
        duration = self.scenario.duration
        waiters: list[asyncio.Future[Any]] = []
        end: asyncio.Future[Any] | None = None
        if duration is not None and math.isfinite(duration):
            end = asyncio.ensure_future(clock.sleep_until(started + duration))
            waiters.append(end)
        if stop is not None:
            waiters.append(asyncio.ensure_future(stop.wait()))
        if not waiters:  # runs until cancelled
            waiters.append(asyncio.get_running_loop().create_future())
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            ended = end is not None and end.done()
        finally:
            for waiter in waiters:
                waiter.cancel()
            await asyncio.gather(*waiters, return_exceptions=True)
        return not ended
