"""The end-of-run summary as a text table (what ``fleet run`` prints on stdout).

One row per operation that happened (count, failures, injected faults,
late starts, attempts per second, mean and p50/p95/p99/max duration), the
run-wide counters, the failures by cause per operation (``register  port
unreachable 12, timeout 3``), the device states, the arrival phases (``phases: warm-up
0-60s 100/100 arrived``), then the thresholds with pass/fail
marks (``✓``/``✗``, or
``ok``/``FAIL`` with ``ascii=True``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from fleet.metrics.operations import Operation
from fleet.metrics.phases import phases_text
from fleet.metrics.views import METRIC_KINDS, RATE, TREND

if TYPE_CHECKING:
    from fleet.metrics.summary import Summary

COLUMNS: Final = (
    *("operation", "count", "failures", "injected", "late", "rate/s", "mean"),
    *("p50", "p95", "p99", "max"),
)
"""The columns of :func:`operation_rows`, named as the JSON summary names them
(``failures``: real failures; ``injected``: failures a fault plan caused on purpose;
``rate/s``: attempts per second of the run)."""


def format_seconds(seconds: float | None, *, ascii: bool = False) -> str:
    """``"850µs"`` (``"850us"``), ``"12.3ms"``, ``"1.25s"``, ``"93.0s"``; ``"-"`` for nothing."""
    if seconds is None:
        return "-"
    if seconds < 0.001:
        return f"{seconds * 1e6:.0f}{'us' if ascii else 'µs'}"
    if seconds < 1:
        return f"{seconds * 1e3:.3g}ms"
    if seconds < 100:
        return f"{seconds:.3g}s"
    return f"{seconds:.0f}s"


def format_observed(metric: str, value: float | None, *, ascii: bool = False) -> str:
    """A threshold's observed value in its metric's unit."""
    if value is None:
        return "no data"
    kind = METRIC_KINDS.get(metric)
    if kind == TREND:
        return format_seconds(value, ascii=ascii)
    if kind == RATE and not value.is_integer():
        return f"{value:.4g}"
    return f"{value:g}"


def format_rate(per_second: float) -> str:
    """Attempts per second: ``"0.57"``, ``"12.3"``, ``"1520"``."""
    return f"{per_second:.3g}" if per_second < 1000 else f"{per_second:.0f}"


def operation_rows(
    summary: Summary, *, ascii: bool = False, group: str | None = None
) -> list[list[str]]:
    """One row of :data:`COLUMNS` per operation that happened (attempts or late starts), of
    the whole run or of one device ``group``."""
    rows = []
    operations = summary.operations if group is None else summary.groups[group]
    for op, stats in operations.items():
        if not stats.count and not stats.late:
            continue
        d = stats.durations
        rate = stats.count / summary.duration if summary.duration > 0 else 0.0
        rows.append(
            [
                op.value,
                str(stats.count),
                str(stats.failures),
                str(stats.injected),
                str(stats.late),
                format_rate(rate),
                format_seconds(d.avg, ascii=ascii),
                *(format_seconds(d.percentile(p), ascii=ascii) for p in (50, 95, 99)),
                format_seconds(d.max, ascii=ascii),
            ]
        )
    return rows


def group_lines(summary: Summary, *, ascii: bool = False) -> list[str]:
    """The per-group rows (``group`` then the operation columns); none for one group."""
    rows = [["group", *COLUMNS]]
    for name in summary.groups:
        rows += [[name, *row] for row in operation_rows(summary, ascii=ascii, group=name)]
    if len(rows) == 1:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["", "per group"]
    for row in rows:
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
        cells += [cell.rjust(width) for cell, width in zip(row[2:], widths[2:], strict=True)]
        lines.append("  ".join(cells).rstrip())
    return lines


def render_summary(summary: Summary, *, ascii: bool = False) -> str:
    """The summary as aligned text, ending with a newline."""
    head = [summary.scenario or "run"]
    if summary.seed is not None:
        head.append(f"seed {summary.seed}")
    head.append(f"{summary.devices} devices")
    if summary.shards > 1:
        head.append(f"{summary.shards} shards")
    head.append(f"{summary.duration:.1f}s" + (" (aborted)" if summary.aborted else ""))
    lines = [(" - " if ascii else " · ").join(head), ""]
    rows = [list(COLUMNS), *operation_rows(summary, ascii=ascii)]
    if len(rows) == 1:
        lines.append("no operations")
    else:
        widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
        for row in rows:
            cells = [row[0].ljust(widths[0])]
            cells += [cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)]
            lines.append("  ".join(cells).rstrip())
    lines += group_lines(summary, ascii=ascii)
    lines.append("")
    lines.append(
        f"notifications sent {summary.operations[Operation.NOTIFY].count}"
        f"   retransmissions {summary.retransmissions}"
        f"   late operations {summary.late_operations}"
        f" (start lateness p99 {format_seconds(summary.lateness.percentile(99), ascii=ascii)})"
    )
    reasons = failure_lines(summary)
    if reasons:
        lines += ["", "failure reasons", *reasons]
    if summary.device_states:
        states = ", ".join(f"{state} {n}" for state, n in sorted(summary.device_states.items()))
        lines.append(f"devices: {states}")
    phases = phases_text(summary.phases)
    if phases:
        lines.append(phases)
    if summary.thresholds:
        lines += ["", f"thresholds: {summary.verdict}"]  # the JSON's verdict word
        width = max(len(t.metric) for t in summary.thresholds)
        expr_width = max(len(t.expression) for t in summary.thresholds)
        for t in summary.thresholds:
            if t.status == "failed":
                mark = "FAIL" if ascii else "✗"
            elif t.status == "passed":
                mark = "ok" if ascii else "✓"
            else:
                mark = "--" if ascii else "-"
            observed = format_observed(t.metric, t.observed, ascii=ascii)
            lines.append(
                f"  {mark.ljust(4 if ascii else 1)} {t.metric.ljust(width)}  "
                f"{t.expression.ljust(expr_width)}  {observed}"
            )
    return "\n".join(lines) + "\n"


def failure_lines(summary: Summary) -> list[str]:
    """``  register  port unreachable 12, timeout 3`` per operation that failed, most
    frequent cause first."""
    rows = [
        (op.value, stats.failure_reasons)
        for op, stats in summary.operations.items()
        if stats.failure_reasons
    ]
    if not rows:
        return []
    width = max(len(name) for name, _ in rows)
    return [
        f"  {name.ljust(width)}  "
        + ", ".join(f"{cause} {n}" for cause, n in sorted(causes.items(), key=_most_first))
        for name, causes in rows
    ]


def _most_first(item: tuple[str, int]) -> tuple[int, str]:
    return (-item[1], item[0])
