"""The fleet supervisor: run a scenario's shard until the end (or a stop), then summarise.

:class:`Fleet` runs the devices of ``indexes`` (default: all) of a scenario in
this process on one :class:`~fleet.runner.shard.Shard`. :meth:`Fleet.run`
looks the server's name up once (:func:`fleet.client.uri.lookup`: A and AAAA, without
blocking the loop; devices look it up again when they reconnect), starts the
shard, waits for the scenario's ``duration`` (forever without one)
or for ``stop`` to be set (Ctrl-C), stops the shard — every device
de-registers first — and returns the :class:`~fleet.metrics.Summary` with the
thresholds evaluated. Several shard processes: :mod:`fleet.runner.workers`;
one machine's slice of a fleet spread over machines:
:func:`~fleet.runner.planning.machine_slice`.

Exit statuses of ``fleet run`` (:func:`exit_status`):

=====  ============================================================
0      the run ended and no threshold failed
1      the run could not be done (e.g. a socket could not be opened), or no device of it
       could start (each one's reason is logged; ``could_not_start`` in the summary)
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

from fleet.client.uri import Resolver, lookup, parse_uri
from fleet.clock import Clock, LoopClock
from fleet.metrics import RunMetrics, Summary, ThresholdLine
from fleet.runner.devices import DeviceFactory, fleet_device
from fleet.runner.limits import SOCKETS_SPARE, raise_open_file_limit
from fleet.runner.phases import phase_lines
from fleet.runner.shard import WAITING, Shard
from fleet.scenario import Scenario, Threshold, evaluate

_log = logging.getLogger("fleet.runner")

__all__ = [
    "COULD_NOT_START",
    "EXIT_ABORTED",
    "EXIT_ERROR",
    "EXIT_INVALID_SCENARIO",
    "EXIT_OK",
    "EXIT_THRESHOLDS_FAILED",
    "SOCKETS_SPARE",
    "Fleet",
    "evaluate_thresholds",
    "exit_status",
    "nothing_started",
    "raise_open_file_limit",
    "scenario_name",
]

EXIT_OK: Final = 0
EXIT_ERROR: Final = 1
EXIT_INVALID_SCENARIO: Final = 2
EXIT_THRESHOLDS_FAILED: Final = 99
EXIT_ABORTED: Final = 130
"""128 + SIGINT, as shells report a command interrupted by Ctrl-C."""


COULD_NOT_START: Final = "could_not_start"
"""The summary's ``device_states`` key: devices that could not even start."""


def nothing_started(summary: Summary) -> bool:
    """Whether not one device of the run could start (a run that tested nothing)."""
    failed = summary.device_states.get(COULD_NOT_START, 0)
    return summary.devices > 0 and failed >= summary.devices


def exit_status(summary: Summary) -> int:
    """The exit status of a finished run (see the module documentation)."""
    if summary.aborted:
        return EXIT_ABORTED
    if nothing_started(summary):
        return EXIT_ERROR
    if any(not line.passed for line in summary.thresholds):
        return EXIT_THRESHOLDS_FAILED
    return EXIT_OK


def scenario_name(scenario: Scenario) -> str:
    """The name a summary gives the scenario: its file's stem, else its description."""
    return pathlib.PurePath(scenario.source).stem or scenario.description


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


class Fleet:
    """Runs one scenario in this process (see the module documentation)."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        clock: Clock | None = None,
        metrics: RunMetrics | None = None,
        factory: DeviceFactory = fleet_device,
        drain: float = 5.0,
        indexes: range | None = None,
        resolver: Resolver | None = None,
    ) -> None:
        self.scenario = scenario
        self.resolver = resolver
        """How the server's name is looked up (default: the system's, without blocking)."""
        self.indexes = indexes if indexes is not None else range(scenario.device_count)
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
        cut: asyncio.Event | None = None,
    ) -> Summary:
        """Run until the scenario's duration has passed or ``stop`` is set; return the summary.

        At the end every device de-registers; when none has been answered for the shard's
        ``deregister_grace`` (a dead server), or once ``cut`` is set (a second Ctrl-C), the
        rest are given up, counted as unfinished De-registers and logged."""
        clock = self._clock if self._clock is not None else LoopClock()
        scenario = self.scenario
        raise_open_file_limit(len(self.indexes))
        # once per shard; devices look the name up again when they reconnect
        server = await lookup(parse_uri(scenario.server.uri), self.resolver)
        shard = Shard(
            scenario,
            clock=clock,
            metrics=self.metrics,
            indexes=self.indexes,
            factory=self.factory,
            drain=self.drain,
            server_addresses=server,
            resolver=self.resolver,
        )
        self.shard = shard
        shard.cut = cut
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
            scenario=scenario_name(scenario),
            seed=scenario.seed,
            started=wall,
            duration=elapsed,
            devices=len(self.indexes),
            aborted=aborted,
        )
        if shard.could_not_start:
            summary.device_states[COULD_NOT_START] = shard.could_not_start
        if len(self.indexes) > shard.arrived:  # an aborted run: never started
            summary.device_states[WAITING] = len(self.indexes) - shard.arrived
        summary.phases = phase_lines(shard.plan, self.indexes, shard.phase_arrivals)
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
