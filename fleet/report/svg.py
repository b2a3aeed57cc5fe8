"""Charts as inline SVG, drawn by our own code: line charts over time and bar histograms.

Why our own SVG rather than a charting library: the report must open offline
and render anywhere (a browser, a CI artifact viewer, a mail client that strips
scripts), with no script to ship or trust. A line chart is a ``<polyline>``
per series and a few axis lines; a hundred lines of Python draw it, and a run
of an hour at one-second steps stays at tens of kilobytes per chart.

Every chart is a ``<figure class="chart">`` holding one ``<svg>``; each series
is a ``<polyline class="series" data-series="NAME" data-points="N">`` (a lone
point is also drawn as a ``<circle>``), each histogram bar a ``<rect class="bar"
data-count="N">``, so tests and people can tell a chart with data from an empty
one. Values are laid out on "nice" axis steps (1, 2, 5 times a power of ten).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Final

from fleet.metrics.report import format_seconds

WIDTH: Final = 720
HEIGHT: Final = 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 16, 12, 36
PALETTE: Final = (
    *("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"),
    *("#7f7f7f", "#bcbd22", "#17becf"),
)

Format = Callable[[float], str]


@dataclass(frozen=True, slots=True)
class Series:
    """One line: ``(x, y)`` points in data units, in x order."""

    name: str
    points: Sequence[tuple[float, float]]


def plain(value: float) -> str:
    """A count or rate as an axis label (``0``, ``2.5``, ``1.2k``)."""
    if abs(value) >= 10_000:
        return f"{value / 1000:.0f}k"
    if abs(value) >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:.3g}"


def seconds(value: float) -> str:
    return format_seconds(value)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round values covering ``[low, high]`` (``low`` first)."""
    if not high > low:
        high = low + 1.0
    raw = (high - low) / count
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks = []
    value = first
    while value < high + step * 0.5:
        ticks.append(round(value, 12))
        value += step
    return ticks


def _figure(title: str, body: str, legend: str, *, kind: str) -> str:
    return (
        f'<figure class="chart" data-chart="{escape(title)}" data-kind="{kind}">'
        f"<figcaption>{escape(title)}</figcaption>{body}{legend}</figure>\n"
    )


def _svg(inner: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}">'
        + "".join(inner)
        + "</svg>"
    )


def line_chart(
    title: str,
    series: Sequence[Series],
    *,
    y_format: Format = plain,
    x_label: str = "run seconds",
) -> str:
    """A chart of ``series`` over x (run seconds), y from 0 up."""
    drawn = [s for s in series if s.points]
    xs = [x for s in drawn for x, _ in s.points]
    ys = [y for s in drawn for _, y in s.points]
    x_ticks = nice_ticks(min(xs, default=0.0), max(xs, default=1.0), 6)
    y_ticks = nice_ticks(0.0, max(ys, default=1.0) or 1.0, 4)
    x0, x1, y1 = x_ticks[0], x_ticks[-1], y_ticks[-1]
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM

    def px(x: float) -> float:
        return _LEFT + (x - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return _TOP + plot_h - (y / y1) * plot_h

    inner = [_axes(x_ticks, y_ticks, px, py, y_format, x_label)]
    legend = []
    for n, line in enumerate(drawn):
        color = PALETTE[n % len(PALETTE)]
        points = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in line.points)
        inner.append(
            f'<polyline class="series" data-series="{escape(line.name)}" '
            f'data-points="{len(line.points)}" fill="none" stroke="{color}" '
            f'stroke-width="1.6" points="{points}"/>'
        )
        if len(line.points) == 1:
            x, y = line.points[0]
            inner.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{color}"/>')
        legend.append(
            f'<span class="key"><i style="background:{color}"></i>{escape(line.name)}</span>'
        )
    return _figure(
        title, _svg(inner, title), f'<div class="legend">{"".join(legend)}</div>', kind="line"
    )


def _axes(
    x_ticks: list[float],
    y_ticks: list[float],
    px: Callable[[float], float],
    py: Callable[[float], float],
    y_format: Format,
    x_label: str,
) -> str:
    parts = []
    bottom = py(y_ticks[0])
    for y in y_ticks:
        parts.append(
            f'<line class="grid" x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{py(y):.1f}" '
            f'y2="{py(y):.1f}" stroke="#ddd"/>'
            f'<text x="{_LEFT - 6}" y="{py(y) + 4:.1f}" text-anchor="end">'
            f"{escape(y_format(y))}</text>"
        )
    for x in x_ticks:
        parts.append(
            f'<text x="{px(x):.1f}" y="{bottom + 16:.1f}" text-anchor="middle">{plain(x)}</text>'
        )
    parts.append(
        f'<line x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{bottom:.1f}" y2="{bottom:.1f}" '
        f'stroke="#333"/><text x="{WIDTH - _RIGHT}" y="{HEIGHT - 4}" text-anchor="end">'
        f"{escape(x_label)}</text>"
    )
    return "".join(parts)


def bar_chart(title: str, bars: Sequence[tuple[str, int]]) -> str:
    """Bars of counts with a label under each (a latency histogram's bins)."""
    top = max((n for _, n in bars), default=1) or 1
    y_ticks = nice_ticks(0.0, float(top), 4)
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM
    slot = plot_w / max(1, len(bars))

    def py(y: float) -> float:
        return _TOP + plot_h - (y / y_ticks[-1]) * plot_h

    inner = []
    for y in y_ticks:
        inner.append(
            f'<line class="grid" x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{py(y):.1f}" '
            f'y2="{py(y):.1f}" stroke="#ddd"/><text x="{_LEFT - 6}" y="{py(y) + 4:.1f}" '
            f'text-anchor="end">{plain(y)}</text>'
        )
    every = max(1, math.ceil(len(bars) / 12))
    for n, (label, count) in enumerate(bars):
        x = _LEFT + n * slot
        inner.append(
            f'<rect class="bar" data-count="{count}" x="{x + 1:.1f}" y="{py(count):.1f}" '
            f'width="{max(1.0, slot - 2):.1f}" height="{py(0) - py(count):.1f}" '
            f'fill="{PALETTE[0]}">'
            f"<title>{escape(label)}: {count}</title></rect>"
        )
        if n % every == 0:
            inner.append(
                f'<text x="{x + slot / 2:.1f}" y="{py(0) + 16:.1f}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    return _figure(title, _svg(inner, title), "", kind="bars")
