"""Which charts a report shows, computed from the time series records and the summary.

Over time (x: run seconds at the end of each interval): devices by state,
operations per second (each operation and all together), p50/p95/p99 of each
operation that took time, retransmissions per interval, notification
lateness (p50/p95/p99 of how late notifications left, and how many were more
than 1 s late), faults injected per interval. Then one latency histogram per
operation, from the summary's exact histogram, in bins of 1-2-5 steps.

A chart whose every series would be empty (no notifications in the run, no
faults) is not drawn; :func:`time_charts` says so with a note instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from fleet.metrics import LatencyHistogram, Operation, Summary
from fleet.metrics.histogram import NS, bucket_bounds
from fleet.metrics.report import format_seconds
from fleet.metrics.series import coarsen
from fleet.metrics.timeseries import Interval
from fleet.report.csv import device_states
from fleet.report.svg import Series, bar_chart, line_chart, seconds

MAX_POINTS: Final = 600
"""Points per line at most; longer series are coarsened (see :func:`time_charts`)."""

_LATENCY_OPERATIONS_SKIP = frozenset({Operation.NOTIFY})
"""``notify`` durations are lateness, drawn in their own chart."""


def _x(record: Interval) -> float:
    return record.end


def _active(records: Sequence[Interval]) -> list[Operation]:
    return [op for op in Operation if any(r.operations[op].count for r in records)]


def devices_chart(records: Sequence[Interval]) -> str:
    series = [
        Series(state, [(_x(r), float(r.devices.get(state, 0))) for r in records])
        for state in device_states(records)
    ]
    return line_chart("Devices by state", series)


def rate_chart(records: Sequence[Interval]) -> str:
    series = [Series("all", [(_x(r), r.per_second(r.count)) for r in records])]
    for op in _active(records):
        series.append(
            Series(op.value, [(_x(r), r.per_second(r.operations[op].count)) for r in records])
        )
    return line_chart("Operations per second", series)


def _percentiles(records: Sequence[Interval], op: Operation) -> list[Series]:
    result = []
    for p in (50, 95, 99):
        points = []
        for record in records:
            value = record.operations[op].durations.percentile(p)
            if value is not None:
                points.append((_x(record), value))
        result.append(Series(f"p{p}", points))
    return result


def latency_charts(records: Sequence[Interval]) -> list[str]:
    charts = []
    for op in _active(records):
        if op in _LATENCY_OPERATIONS_SKIP:
            continue
        series = _percentiles(records, op)
        if any(s.points for s in series):
            charts.append(line_chart(f"{op.value} duration", series, y_format=seconds))
    return charts


def retransmissions_chart(records: Sequence[Interval]) -> str:
    series = [Series("retransmissions", [(_x(r), float(r.retransmissions)) for r in records])]
    return line_chart("Retransmissions per interval", series)


def lateness_charts(records: Sequence[Interval]) -> list[str]:
    series = _percentiles(records, Operation.NOTIFY)
    if not any(s.points for s in series):
        return []
    late = [Series("late (> 1 s)", [(_x(r), float(r.notifications_late)) for r in records])]
    return [
        line_chart("Notification lateness", series, y_format=seconds),
        line_chart("Notifications late per interval", late),
    ]


def faults_chart(records: Sequence[Interval]) -> list[str]:
    labels: dict[str, None] = {}
    for record in records:
        for label in record.faults:
            labels.setdefault(label, None)
    if not labels:
        return []
    series = [
        Series(label, [(_x(r), float(r.faults.get(label, 0))) for r in records]) for label in labels
    ]
    return [line_chart("Faults injected per interval", series)]


def time_charts(records: Sequence[Interval]) -> tuple[list[str], list[str]]:
    """The charts over time, and notes on those left out for lack of data.

    More than :data:`MAX_POINTS` records are first added up in runs of consecutive ones
    (exactly: their histograms merge), so the page stays small for long runs."""
    if not records:
        return [], ["no time series: pass one to fleet report, or run with --report"]
    notes = []
    if len(records) > MAX_POINTS:
        records = coarsen(records, MAX_POINTS)
        notes.append(f"{records[0].interval:g} s per point (the run's intervals added up)")
    charts = [devices_chart(records), rate_chart(records)]
    charts += latency_charts(records)
    charts.append(retransmissions_chart(records))
    lateness = lateness_charts(records)
    charts += lateness
    if not lateness:
        notes.append("no notifications were sent: no notification lateness to chart")
    faults = faults_chart(records)
    charts += faults
    if not faults:
        notes.append("no faults were injected")
    return charts, notes


_STEPS = (1, 2, 5)


def latency_bins(histogram: LatencyHistogram) -> list[tuple[str, int]]:
    """The histogram's samples in bins whose upper bounds go 1, 2, 5, 10 ... (from 1 µs)."""
    edges = [m * 10**k for k in range(3, 13) for m in _STEPS]  # ns: 1 µs .. 500 s
    counts = [0] * (len(edges) + 1)
    for index, n in histogram.buckets():
        low, high = bucket_bounds(index)
        middle = (low + high - 1) / 2
        slot = next((i for i, edge in enumerate(edges) if middle <= edge), len(edges))
        counts[slot] += n
    used = [i for i, n in enumerate(counts) if n]
    if not used:
        return []
    labels = [f"≤{format_seconds(edge / NS)}" for edge in edges] + [
        f">{format_seconds(edges[-1] / NS)}"
    ]
    return [(labels[i], counts[i]) for i in range(used[0], used[-1] + 1)]


def histogram_charts(summary: Summary) -> list[str]:
    charts = []
    for op, stats in summary.operations.items():
        bins = latency_bins(stats.durations)
        if bins:
            what = "lateness" if op is Operation.NOTIFY else "duration"
            charts.append(bar_chart(f"{op.value} {what} histogram", bins))
    return charts
