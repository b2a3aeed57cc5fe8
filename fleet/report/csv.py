"""The time series as CSV files (``fleet run --csv PREFIX``), in the manner of Locust's.

Two files, one row per interval (``t``: run seconds at its start, ``span``: its length):

- ``PREFIX_operations.csv``: one row per interval and operation that happened in
  it: ``t, span, operation, count, failures, injected, late, per_second, mean,
  p50, p95, p99, max`` (durations in seconds);
- ``PREFIX_run.csv``: ``t, span, operations_per_second, retransmissions,
  faults_injected, notifications_late`` and one ``devices_<state>`` column per
  device state seen in the run (``registered``, ``registering``, ``waiting``...).
"""

from __future__ import annotations

import csv
import io
import pathlib
from collections.abc import Sequence
from typing import Final

from fleet.metrics.timeseries import Interval

OPERATION_COLUMNS: Final = (
    *("t", "span", "operation", "count", "failures", "injected", "late", "per_second"),
    *("mean", "p50", "p95", "p99", "max"),
)
RUN_COLUMNS: Final = (
    *("t", "span", "operations_per_second", "retransmissions", "faults_injected"),
    "notifications_late",
)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.9g}"


def operations_csv(records: Sequence[Interval]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(OPERATION_COLUMNS)
    for record in records:
        for op, stats in record.active().items():
            d = stats.durations
            writer.writerow(
                [
                    _number(record.start),
                    _number(record.span),
                    op.value,
                    stats.count,
                    stats.failures,
                    stats.injected,
                    stats.late,
                    _number(record.per_second(stats.count)),
                    *(_number(v) for v in (d.avg, *(d.percentile(p) for p in (50, 95, 99)))),
                    _number(d.max),
                ]
            )
    return out.getvalue()


def device_states(records: Sequence[Interval]) -> list[str]:
    """Every state seen, in the order they first appear."""
    seen: dict[str, None] = {}
    for record in records:
        for state in record.devices:
            seen.setdefault(state, None)
    return list(seen)


def run_csv(records: Sequence[Interval]) -> str:
    states = device_states(records)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*RUN_COLUMNS, *(f"devices_{state}" for state in states)])
    for record in records:
        writer.writerow(
            [
                _number(record.start),
                _number(record.span),
                _number(record.per_second(record.count)),
                record.retransmissions,
                record.faults_injected,
                record.notifications_late,
                *(record.devices.get(state, 0) for state in states),
            ]
        )
    return out.getvalue()


def write_csv(prefix: str, records: Sequence[Interval]) -> list[pathlib.Path]:
    """Write both files next to ``prefix``; returns their paths."""
    paths = [pathlib.Path(f"{prefix}_operations.csv"), pathlib.Path(f"{prefix}_run.csv")]
    paths[0].write_text(operations_csv(records), encoding="utf-8")
    paths[1].write_text(run_csv(records), encoding="utf-8")
    return paths
