"""Combining time series records: shards of one run, slices of one fleet, a run's totals.

Shard processes of one run tick on the same run clock: their records of the
same ``index`` add up (:func:`merge_intervals`), and :class:`SeriesMerger`
hands out each merged record once every source has passed it (the parent of
``fleet run --workers N`` writes them as they complete). Slices run on
several machines (``fleet merge --series``) are aligned on wall time first
(:func:`merge_series`). :func:`totals` adds a whole series into one record.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from fleet.metrics.timeseries import Interval, SeriesError


def merge_intervals(records: Iterable[Interval]) -> list[Interval]:
    """Records of the same ``index`` added up (shards of one run), ordered by index."""
    merged: dict[int, Interval] = {}
    for record in records:
        into = merged.get(record.index)
        if into is None:
            into = merged[record.index] = _empty_like(record)
        into.merge(record)
    return [merged[index] for index in sorted(merged)]


def _empty_like(record: Interval, shift: int = 0) -> Interval:
    start = record.start + shift * record.interval
    return Interval(record.index + shift, start, record.span, record.interval)


def merge_series(series: Iterable[Iterable[Interval]]) -> list[Interval]:
    """Several runs' records as one series: slices of one fleet on several machines.

    Each run's records are moved onto the earliest run's clock by wall time
    (whole intervals: the machines started at about the same time), then
    records of the same index add up.
    """
    runs = [run for run in (list(records) for records in series) if run]
    if not runs:
        return []
    intervals = {record.interval for run in runs for record in run}
    if len(intervals) > 1:
        raise SeriesError(f"the series have different intervals: {sorted(intervals)}")
    interval = intervals.pop()
    origins = [_origin(run) for run in runs]
    first = min((o for o in origins if o is not None), default=None)
    moved: list[Interval] = []
    for run, origin in zip(runs, origins, strict=True):
        shift = 0 if origin is None or first is None else round((origin - first) / interval)
        for record in run:
            copy = _empty_like(record, shift)
            copy.merge(record)
            copy.start, copy.span = record.start + shift * interval, record.span
            copy.wall = None if first is None else first + copy.start
            moved.append(copy)
    return merge_intervals(moved)


def _origin(run: list[Interval]) -> float | None:
    """Wall time of a run's start (run second 0)."""
    for record in run:
        if record.wall is not None:
            return record.wall - record.start
    return None


def totals(records: Iterable[Interval]) -> Interval:
    """Every record added up into one (what the run's summary counts); the devices by state
    are those of the last record."""
    items = list(records)
    if not items:
        return Interval(0, 0.0, 0.0)
    result = _empty_like(items[0])
    for record in items:
        result.merge(record)
    result.devices = dict(items[-1].devices)
    return result


class SeriesMerger:
    """Merges the records of several sources (shard processes) as they arrive.

    A merged record of ``index`` k is complete once every source has sent a
    record past k or has finished; :meth:`add` and :meth:`finish` return the
    records completed by that call, in order, each exactly once.
    """

    def __init__(self, sources: Iterable[int]) -> None:
        self._last: dict[int, int] = {source: -1 for source in sources}
        self._finished: set[int] = set()
        self._pending: dict[int, list[Interval]] = {}
        self._next = 0

    def add(self, source: int, record: Interval) -> list[Interval]:
        self._last[source] = max(self._last.get(source, -1), record.index)
        self._pending.setdefault(record.index, []).append(record)
        return self._ready()

    def finish(self, source: int) -> list[Interval]:
        """``source`` sends no more records."""
        self._finished.add(source)
        return self._ready()

    def flush(self) -> list[Interval]:
        """Every record still pending (the run is over)."""
        self._finished.update(self._last)
        return self._ready()

    def _ready(self) -> list[Interval]:
        # sources send their indexes in order: k is complete when every running one sent k
        running = [last for source, last in self._last.items() if source not in self._finished]
        limit = min(running) if running else math.inf
        done: list[Interval] = []
        for index in sorted(i for i in self._pending if i <= limit):
            done += merge_intervals(self._pending.pop(index))
        return done


def coarsen(records: Sequence[Interval], most: int) -> list[Interval]:
    """At most ``most`` records: runs of ``k`` consecutive ones added up (exactly: their counts
    and histograms merge), each with the devices by state of its last record."""
    if most < 1:
        raise ValueError(f"at least one record, got {most}")
    step = math.ceil(len(records) / most) if records else 1
    if step <= 1:
        return list(records)
    result = []
    for first in range(0, len(records), step):
        run = records[first : first + step]
        combined = totals(run)
        combined.index = first // step
        combined.interval = run[0].interval * step
        combined.span = run[-1].end - run[0].start
        result.append(combined)
    return result
