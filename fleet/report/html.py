"""The HTML report of a run: one self-contained file (``fleet run --report``, ``fleet report``).

No script, no font, no stylesheet or image from anywhere: the CSS is inline and
the charts are inline SVG (:mod:`fleet.report.svg`), so the file opens offline,
in any browser, and can be attached to a CI run as it is. Sections, top down:
the verdict with the thresholds; what ran (tool version, scenario, server,
start, end, devices, seed); the summary table (per operation: count, failed,
injected, late, rate per second, mean, p50, p95, p99, max) and the same per
device group; the charts over
time (:func:`~fleet.report.charts.time_charts`); the latency histograms; the
failure reasons per operation (when the summary has them); the faults
injected; the scenario text.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from html import escape
from typing import Final

from fleet.metrics import Summary
from fleet.metrics.report import COLUMNS, format_observed, operation_rows
from fleet.metrics.timeseries import Interval
from fleet.report.charts import histogram_charts, time_charts
from fleet.report.redact import redact_scenario

_CSS: Final = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px auto;max-width:1480px;color:#222;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:6px 0}td,th{padding:3px 10px;border-bottom:1px solid #eee;
text-align:right}td:first-child,th:first-child{text-align:left}th{background:#f4f4f4}
.verdict{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:600}
.passed{background:#2a7d2e}.failed{background:#c62828}.aborted{background:#8d6e00}
.status-failed{color:#c62828;font-weight:600}.status-passed{color:#2a7d2e}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{margin:0;border:1px solid #ddd;padding:6px}
.chart figcaption{font-weight:600;margin-bottom:2px}.chart text{font-size:11px;fill:#444}
.legend{font-size:12px}.key{margin-right:12px}.key i{display:inline-block;width:10px;height:10px;
margin-right:4px}pre{background:#f7f7f7;padding:10px;overflow:auto}.note{color:#666}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 14px}dt{color:#666}dd{margin:0}
"""


def _time(wall: float | None) -> str:
    if wall is None:
        return "-"
    moment = datetime.datetime.fromtimestamp(wall, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _rows(header: Sequence[str], rows: Sequence[Sequence[str]], *, cls: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(cells) + "</tr>" for cells in _cells(rows))
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _cells(rows: Sequence[Sequence[str]]) -> list[list[str]]:
    return [[f"<td>{escape(cell)}</td>" for cell in row] for row in rows]


def _thresholds(summary: Summary) -> str:
    if not summary.thresholds:
        return '<p class="note">the scenario sets no thresholds</p>'
    rows = []
    for t in summary.thresholds:
        observed = escape(format_observed(t.metric, t.observed))
        rows.append(
            f"<tr><td>{escape(t.metric)}</td><td>{escape(t.expression)}</td>"
            f'<td>{observed}</td><td class="status-{escape(t.status)}">{escape(t.status)}</td></tr>'
        )
    head = "<tr><th>metric</th><th>threshold</th><th>observed</th><th>status</th></tr>"
    return f'<table class="thresholds"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def _facts(summary: Summary) -> str:
    facts = {
        "tool version": summary.tool_version or "-",
        "scenario": summary.scenario or "-",
        "scenario file": summary.scenario_path or "-",
        "server": summary.server_uri or "-",
        "seed": "-" if summary.seed is None else str(summary.seed),
        "started": _time(summary.started),
        "ended": _time(summary.ended),
        "duration": f"{summary.duration:.1f} s" + (" (aborted)" if summary.aborted else ""),
        "devices": f"{summary.devices} in {summary.shards} shard(s)",
        "device states at the end": ", ".join(
            f"{state} {n}" for state, n in sorted(summary.device_states.items())
        )
        or "-",
        "retransmissions": str(summary.retransmissions),
        "late operations": str(summary.late_operations),
    }
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts.items())
    return f"<dl>{items}</dl>"


def _summary_table(summary: Summary) -> str:
    rows = operation_rows(summary)
    if not rows:
        return '<p class="note">no operations</p>'
    header = list(COLUMNS)
    return _rows(header, rows, cls="operations")


def _group_table(summary: Summary) -> str:
    rows = [[name, *row] for name in summary.groups for row in operation_rows(summary, group=name)]
    if not rows:
        return '<p class="note">one device group: its rows are the summary above</p>'
    header = list(COLUMNS)
    return _rows(["group", *header], rows, cls="groups")


def _failure_reasons(summary: Summary) -> str:
    rows = []
    for op, stats in summary.operations.items():
        reasons = stats.failure_reasons
        for reason, n in sorted(reasons.items(), key=lambda item: (-item[1], item[0])):
            rows.append([op.value, str(reason), str(n)])
    if not rows:
        failed = sum(s.failures for s in summary.operations.values())
        text = "no failures" if not failed else f"{failed} failures (no reasons recorded)"
        return f'<p class="note">{text}</p>'
    return _rows(("operation", "reason", "count"), rows, cls="reasons")


def _faults(summary: Summary) -> str:
    if not summary.faults:
        return '<p class="note">no faults were injected</p>'
    rows = [[label, str(n)] for label, n in sorted(summary.faults.items())]
    return _rows(("fault (injected on purpose)", "count"), rows, cls="faults")


def render_report(
    summary: Summary, records: Sequence[Interval] = (), *, scenario_text: str = ""
) -> str:
    """The whole page as text."""
    verdict = summary.verdict
    title = f"{summary.scenario or 'run'}: {verdict}"
    charts, notes = time_charts(records)
    histograms = histogram_charts(summary)
    note_html = "".join(f'<p class="note">{escape(n)}</p>' for n in notes)
    scenario = (
        f"<pre>{escape(redact_scenario(scenario_text))}</pre>"
        if scenario_text
        else '<p class="note">the scenario text is not at hand</p>'
    )
    return "".join(
        [
            '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>\n",
            f"<h1>{escape(summary.scenario or 'run')} "
            f'<span class="verdict {verdict}" id="verdict">{verdict}</span></h1>\n',
            f"<h2>Thresholds</h2>{_thresholds(summary)}\n",
            f"<h2>Run</h2>{_facts(summary)}\n",
            f"<h2>Summary</h2>{_summary_table(summary)}\n",
            f"<h2>Per group</h2>{_group_table(summary)}\n",
            f'<h2>Over time</h2>{note_html}<div class="charts" id="time-charts">',
            "".join(charts),
            "</div>\n",
            '<h2>Latency histograms</h2><div class="charts" id="histograms">',
            "".join(histograms) or '<p class="note">no durations recorded</p>',
            "</div>\n",
            f"<h2>Failure reasons</h2>{_failure_reasons(summary)}\n",
            f"<h2>Faults injected</h2>{_faults(summary)}\n",
            f"<h2>Scenario</h2>{scenario}\n",
            "</body></html>\n",
        ]
    )
