"""The run's named metrics (the names thresholds use) as views over per-operation stats.

Three kinds, as in k6: *trend* metrics are durations (``percentile``,
``avg``, ``min``, ``max``, ``count``), *rate* metrics are the share of attempts
that failed (``count`` failed, ``rate`` = failed / attempts) and *counter*
metrics count events (``count``, ``rate`` per second of the run). Each view
offers all six names of the threshold protocol; what a kind does not have is
``None``.

Names: ``<operation>_duration`` and ``<operation>_failed`` for every
operation (``notify`` is spelled ``notification_delay`` and
``notification_failed``), ``request_duration`` / ``request_failed`` over
every request the devices served, and the counters ``notifications_sent``,
``retransmissions`` and ``late_operations``. ``firmware_completed`` is a rate
metric of successes (:class:`ShareStats`): the devices with Object 5 whose update
succeeded among all of them (the ``completed`` and ``devices`` counts of
:attr:`RunMetrics.firmware <fleet.metrics.RunMetrics>`); ``software_completed`` the same
for Object 9 (devices with Object 9 that installed a package, :attr:`RunMetrics.software`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from fleet.metrics.histogram import LatencyHistogram
from fleet.metrics.operations import SERVED, Operation


class OperationCounts(Protocol):
    """What the views read of one operation (``OperationStats`` and its summary form)."""

    @property
    def count(self) -> int: ...

    @property
    def failures(self) -> int: ...

    @property
    def durations(self) -> LatencyHistogram: ...


class _NoDistribution:
    """Rate and counter metrics have no durations: their trend names are ``None``."""

    __slots__ = ()

    def percentile(self, p: float) -> float | None:
        return None

    @property
    def avg(self) -> float | None:
        return None

    @property
    def min(self) -> float | None:
        return None

    @property
    def max(self) -> float | None:
        return None


@dataclass(frozen=True, slots=True)
class RateStats(_NoDistribution):
    """Failed attempts among all attempts."""

    failed: int
    attempts: int

    @property
    def count(self) -> int:
        return self.failed

    @property
    def rate(self) -> float | None:
        return self.failed / self.attempts if self.attempts else None


@dataclass(frozen=True, slots=True)
class CounterStats(_NoDistribution):
    """Events over the run's duration."""

    events: int
    seconds: float

    @property
    def count(self) -> int:
        return self.events

    @property
    def rate(self) -> float | None:
        return self.events / self.seconds if self.seconds > 0 else None


@dataclass(frozen=True, slots=True)
class ShareStats(_NoDistribution):
    """Members that reached something among all members (a campaign's completion)."""

    reached: int
    members: int

    @property
    def count(self) -> int:
        return self.reached

    @property
    def rate(self) -> float | None:
        return self.reached / self.members if self.members else None


MetricView = LatencyHistogram | RateStats | CounterStats | ShareStats

TREND, RATE, COUNTER = "trend", "rate", "counter"
FIRMWARE_DEVICES, COMPLETED = "devices", "completed"
"""Keys of :attr:`RunMetrics.firmware` (and ``software``): devices with Object 5 (9), and
those updated (installed), once each."""


def _duration_name(op: Operation) -> str:
    return "notification_delay" if op is Operation.NOTIFY else f"{op.value}_duration"


def _failed_name(op: Operation) -> str:
    return "notification_failed" if op is Operation.NOTIFY else f"{op.value}_failed"


METRIC_KINDS: Final[Mapping[str, str]] = {
    **{_duration_name(op): TREND for op in Operation},
    "request_duration": TREND,
    **{_failed_name(op): RATE for op in Operation},
    "request_failed": RATE,
    "notifications_sent": COUNTER,
    "retransmissions": COUNTER,
    "late_operations": COUNTER,
    "firmware_completed": RATE,
    "software_completed": RATE,
}
"""Every metric name this package produces, with its kind."""


def metric_views(
    operations: Mapping[Operation, OperationCounts],
    *,
    retransmissions: int,
    late_operations: int,
    seconds: float,
    firmware: Mapping[str, int] | None = None,
    software: Mapping[str, int] | None = None,
) -> dict[str, MetricView]:
    """Every named metric, computed from per-operation counts (see the module doc)."""
    views: dict[str, MetricView] = {}
    for op, stats in operations.items():
        views[_duration_name(op)] = stats.durations
        views[_failed_name(op)] = RateStats(stats.failures, stats.count)
    served = [operations[op] for op in Operation if op in SERVED]
    views["request_duration"] = LatencyHistogram.merged(s.durations for s in served)
    views["request_failed"] = RateStats(
        sum(s.failures for s in served), sum(s.count for s in served)
    )
    views["notifications_sent"] = CounterStats(operations[Operation.NOTIFY].count, seconds)
    views["retransmissions"] = CounterStats(retransmissions, seconds)
    views["late_operations"] = CounterStats(late_operations, seconds)
    for name, counts in (("firmware", firmware), ("software", software)):
        known = counts if counts is not None else {}
        views[f"{name}_completed"] = ShareStats(
            known.get(COMPLETED, 0), known.get(FIRMWARE_DEVICES, 0)
        )
    return views
