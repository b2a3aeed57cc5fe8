"""A run's history: one :class:`Interval` record every ``interval`` seconds, mergeable exactly.

:class:`IntervalRecorder` reads a :class:`~fleet.metrics.RunMetrics` at every
tick and keeps what changed since the previous tick: per operation the
attempts, failures (by reason), injected failures, late starts and the exact
latency histogram of the interval (:meth:`~fleet.metrics.LatencyHistogram.since`),
plus retransmissions, faults injected by label, the start-lateness histogram
and the devices by state at the tick. Interval ``index`` k covers run seconds
``[k * interval, k * interval + span)``; the last one (written when the run
ends, after every device de-registered) is shorter, so the records of a run
add up to its summary exactly.

Merging (:mod:`fleet.metrics.series`): records of the same ``index`` from shard
processes of one run add up (:meth:`Interval.merge`; devices by state too, they
are disjoint devices); slices run on several machines are aligned on wall time
first.

JSON lines form (``--timeseries FILE``), one object per interval::

    {"schema_version": 1, "interval": 1.0, "index": 3, "t": 3.0, "span": 1.0,
     "wall": 1700000003.0, "devices": {"registered": 98, "registering": 2},
     "operations_per_second": 41.0, "retransmissions": 0, "faults": {"drop": 1},
     "faults_injected": 1, "notifications_late": 0,
     "operations": {"register": {"count": 12, "failures": 0, "injected": 0, "late": 0,
                                 "per_second": 12.0, "mean": 0.004, "p50": 0.003,
                                 "p95": 0.009, "p99": 0.011, "durations": HISTOGRAM,
                                 "failure_reasons": {"timeout": 1}}},   # when any
     "lateness": HISTOGRAM}

``operations`` holds only the operations that happened in the interval;
``HISTOGRAM`` is the exact form of :mod:`fleet.metrics.summary`. A notification
counts as late when it left more than ``DEFAULT_LATE_AFTER`` (1 s) after it was
due (to the histogram's bucket resolution, 0.4 %).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

from fleet.codec import json_text
from fleet.metrics.histogram import NS, LatencyHistogram, bucket_bounds
from fleet.metrics.operations import DEFAULT_LATE_AFTER, Operation, RunMetrics
from fleet.metrics.summary import OperationSummary, SummaryError

SERIES_VERSION: Final = 1
DEFAULT_INTERVAL: Final = 1.0


class SeriesError(SummaryError):
    """A time series file that cannot be read (says which line and why)."""


def late_count(histogram: LatencyHistogram, after: float = DEFAULT_LATE_AFTER) -> int:
    """Samples of ``histogram`` above ``after`` seconds (whole buckets at or above it)."""
    limit = round(after * NS)
    return sum(n for index, n in histogram.buckets() if bucket_bounds(index)[0] > limit)


def _operations() -> dict[Operation, OperationSummary]:
    return {op: OperationSummary() for op in Operation}


@dataclass(slots=True)
class Interval:
    """What happened in one interval of a run (see the module documentation)."""

    index: int
    start: float
    span: float
    interval: float = DEFAULT_INTERVAL
    wall: float | None = None
    """Wall time (Unix seconds) of ``start``."""
    devices: dict[str, int] = field(default_factory=dict)
    operations: dict[Operation, OperationSummary] = field(default_factory=_operations)
    retransmissions: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    lateness: LatencyHistogram = field(default_factory=LatencyHistogram)

    # -- derived ------------------------------------------------------------------------

    @property
    def end(self) -> float:
        return self.start + self.span

    @property
    def count(self) -> int:
        """Attempts of every operation in the interval."""
        return sum(stats.count for stats in self.operations.values())

    def per_second(self, count: int) -> float:
        return count / self.span if self.span > 0 else 0.0

    @property
    def faults_injected(self) -> int:
        return sum(self.faults.values())

    @property
    def notifications_late(self) -> int:
        return late_count(self.operations[Operation.NOTIFY].durations)

    def active(self) -> dict[Operation, OperationSummary]:
        """The operations that happened in the interval (attempts or late starts)."""
        return {op: s for op, s in self.operations.items() if s.count or s.late}

    # -- merging ------------------------------------------------------------------------

    def merge(self, other: Interval) -> None:
        """Add ``other`` (another shard's record of the same interval), exactly."""
        self.start = min(self.start, other.start)
        self.span = max(self.end, other.end) - self.start
        if other.wall is not None:
            self.wall = other.wall if self.wall is None else min(self.wall, other.wall)
        for state, n in other.devices.items():
            self.devices[state] = self.devices.get(state, 0) + n
        for op, stats in other.operations.items():
            self.operations[op].merge(stats)
        self.retransmissions += other.retransmissions
        for label, n in other.faults.items():
            self.faults[label] = self.faults.get(label, 0) + n
        self.lateness.merge(other.lateness)

    # -- JSON ---------------------------------------------------------------------------

    def to_json(self) -> dict[str, object]:
        operations: dict[str, object] = {}
        for op, stats in self.active().items():
            d = stats.durations
            operations[op.value] = {
                "count": stats.count,
                "failures": stats.failures,
                "injected": stats.injected,
                "late": stats.late,
                "per_second": self.per_second(stats.count),
                "mean": d.avg,
                "p50": d.percentile(50),
                "p95": d.percentile(95),
                "p99": d.percentile(99),
                **{k: v for k, v in stats.to_json().items() if k not in _COUNTS},
            }
        return {
            "schema_version": SERIES_VERSION,
            "interval": self.interval,
            "index": self.index,
            "t": self.start,
            "span": self.span,
            "wall": self.wall,
            "devices": dict(sorted(self.devices.items())),
            "operations_per_second": self.per_second(self.count),
            "retransmissions": self.retransmissions,
            "faults": dict(sorted(self.faults.items())),
            "faults_injected": self.faults_injected,
            "notifications_late": self.notifications_late,
            "operations": operations,
            "lateness": self.lateness.to_json(),
        }

    @classmethod
    def from_json(cls, data: object) -> Interval:
        """Rebuild a record from :meth:`to_json` (derived fields are ignored)."""
        if not isinstance(data, Mapping):
            raise SeriesError(f"a record must be a JSON object, got {type(data).__name__}")
        version = data.get("schema_version")
        if version != SERIES_VERSION:
            raise SeriesError(f"schema_version {version!r} is not supported (this reads 1)")
        try:
            record = cls(
                _whole(data, "index"),
                _number(data, "t"),
                _number(data, "span"),
                _number(data, "interval"),
            )
            if record.interval <= 0:
                raise SeriesError(f"interval must be > 0, got {record.interval}")
            wall = data.get("wall")
            record.wall = None if wall is None else _number(data, "wall")
            record.devices = _counts(data, "devices")
            operations = data.get("operations", {})
            if not isinstance(operations, Mapping):
                raise SeriesError("operations must be a JSON object")
            for name, value in operations.items():
                try:
                    op = Operation(name)
                except ValueError:
                    raise SeriesError(f"unknown operation {name!r}") from None
                record.operations[op] = OperationSummary.from_json(value)
            record.retransmissions = _whole(data, "retransmissions")
            record.faults = _counts(data, "faults")
            lateness = data.get("lateness")
            if not isinstance(lateness, Mapping):
                raise SeriesError("lateness must be a histogram object")
            record.lateness = LatencyHistogram.from_json(lateness)
        except SeriesError:
            raise
        except (SummaryError, ValueError, TypeError) as exc:
            raise SeriesError(str(exc)) from None
        return record


_COUNTS: Final = frozenset({"count", "failures", "injected", "late"})


class IntervalRecorder:
    """Turns one shard's cumulative :class:`RunMetrics` into interval records."""

    def __init__(
        self,
        metrics: RunMetrics,
        *,
        interval: float = DEFAULT_INTERVAL,
        wall: float | None = None,
    ) -> None:
        if not interval > 0 or math.isinf(interval):
            raise ValueError(f"the interval must be a finite number of seconds > 0, got {interval}")
        self.metrics = metrics
        self.interval = interval
        self.wall = wall
        """Wall time of run second 0 (``None``: records carry no wall time)."""
        self._index = 0
        self._start = 0.0
        self._before = _Snapshot.empty()

    def sample(self, now: float, devices: Mapping[str, int]) -> Interval:
        """The record of ``[previous sample, now)`` run seconds, with ``devices`` at ``now``."""
        current = _Snapshot.of(self.metrics)
        before = self._before
        record = Interval(
            self._index,
            self._start,
            max(0.0, now - self._start),
            self.interval,
            None if self.wall is None else self.wall + self._start,
        )
        record.devices = {state: n for state, n in devices.items() if n}
        for op, stats in current.operations.items():
            old = before.operations.get(op)
            if old is None:
                record.operations[op] = stats
                continue
            record.operations[op] = OperationSummary(
                stats.count - old.count,
                stats.failures - old.failures,
                stats.injected - old.injected,
                stats.late - old.late,
                stats.durations.since(old.durations),
                _grown(stats.failure_reasons, old.failure_reasons),
            )
        record.retransmissions = current.retransmissions - before.retransmissions
        record.faults = _grown(current.faults, before.faults)
        record.lateness = current.lateness.since(before.lateness)
        self._before = current
        self._index += 1
        self._start = now
        return record


@dataclass(slots=True)
class _Snapshot:
    operations: dict[Operation, OperationSummary]
    lateness: LatencyHistogram
    retransmissions: int
    faults: dict[str, int]

    @classmethod
    def empty(cls) -> _Snapshot:
        return cls({}, LatencyHistogram(), 0, {})

    @classmethod
    def of(cls, metrics: RunMetrics) -> _Snapshot:
        return cls(
            {
                op: OperationSummary(
                    s.count, s.failures, s.injected, s.late, s.durations.copy(), dict(s.reasons)
                )
                for op, s in metrics.operations.items()
            },
            metrics.lateness.copy(),
            metrics.retransmissions,
            dict(metrics.faults),
        )


def _grown(now: Mapping[str, int], before: Mapping[str, int]) -> dict[str, int]:
    """The counts that grew since ``before``, by how much."""
    return {key: n - before.get(key, 0) for key, n in now.items() if n - before.get(key, 0)}


# -- JSON lines ---------------------------------------------------------------------------------


def dumps_line(record: Interval) -> str:
    """One JSON line (bucket lists and all), ending with a newline."""
    return json_text.dumps(record.to_json(), separators=(",", ":")) + "\n"


def read_lines(lines: Iterable[str], *, file: str = "<series>") -> Iterator[Interval]:
    """Records of a JSON lines file; a bad line raises :class:`SeriesError` with its number."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json_text.loads(line)
        except json.JSONDecodeError as exc:
            raise SeriesError(f"{file}:{number}: not JSON: {exc.msg}") from None
        try:
            yield Interval.from_json(data)
        except SeriesError as exc:
            raise SeriesError(f"{file}:{number}: {exc}") from None


def _whole(data: Mapping[str, object], key: str) -> int:
    value = data.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SeriesError(f"{key} must be a whole number >= 0, got {value!r}")
    return value


def _number(data: Mapping[str, object], key: str) -> float:
    value = data.get(key)
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < 0
    ):
        raise SeriesError(f"{key} must be a number >= 0, got {value!r}")
    return float(value)


def _counts(data: Mapping[str, object], key: str) -> dict[str, int]:
    value = data.get(key, {})
    if not isinstance(value, Mapping):
        raise SeriesError(f"{key} must be a JSON object")
    return {str(k): _whole(value, k) for k in value}
