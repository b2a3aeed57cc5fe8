"""The report's pieces without a run: axis steps, charts, histogram bins, escaping, JUnit."""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET

from fleet.metrics import LatencyHistogram, Operation, OperationSummary, Summary, ThresholdLine
from fleet.metrics.timeseries import Interval
from fleet.report.charts import latency_bins, time_charts
from fleet.report.html import render_report
from fleet.report.junit import junit_xml
from fleet.report.svg import Series, line_chart, nice_ticks


def test_nice_ticks_cover_the_range_in_round_steps() -> None:
    assert nice_ticks(0, 10, 5) == [0, 2, 4, 6, 8, 10]
    assert nice_ticks(0, 0.0037, 4) == [0, 0.001, 0.002, 0.003, 0.004]
    assert nice_ticks(0, 0) == [0, 0.2, 0.4, 0.6, 0.8, 1.0]
    ticks = nice_ticks(0.5, 93.0, 6)
    assert ticks[0] <= 0.5 and ticks[-1] >= 93.0


def test_a_line_chart_draws_every_point_inside_the_plot() -> None:
    chart = line_chart("t", [Series("a", [(0.0, 1.0), (1.0, 3.0), (2.0, 2.0)]), Series("b", [])])
    assert chart.count('class="series"') == 1  # the empty series is not drawn
    assert 'data-points="3"' in chart
    points = re.search(r' points="([^"]+)"', chart)
    assert points is not None
    for pair in points.group(1).split():
        x, y = map(float, pair.split(","))
        assert 0 <= x <= 720 and 0 <= y <= 260


def test_latency_bins_keep_every_sample() -> None:
    rng = random.Random(3)
    h = LatencyHistogram()
    for _ in range(500):
        h.record(rng.expovariate(500.0))
    bins = latency_bins(h)
    assert sum(n for _, n in bins) == 500
    assert bins[0][1] > 0 and bins[-1][1] > 0  # trimmed to the first and last used bin
    assert latency_bins(LatencyHistogram()) == []


def test_charts_left_out_for_lack_of_data_are_named() -> None:
    record = Interval(0, 0.0, 1.0)
    record.operations[Operation.REGISTER].count = 2
    record.operations[Operation.REGISTER].durations.record(0.002)
    charts, notes = time_charts([record])
    assert any("Devices by state" in c for c in charts)
    assert not any("Notification lateness" in c for c in charts)
    assert any("no notifications" in n for n in notes) and any("no faults" in n for n in notes)
    assert time_charts([])[0] == []


def test_the_page_escapes_text_and_shows_failure_reasons() -> None:
    summary = Summary(scenario="<script>alert(1)</script>", devices=3, duration=2.0)
    stats = OperationSummary(count=4, failures=3, failure_reasons={"timeout": 2, "4.04": 1})
    summary.operations[Operation.READ] = stats
    summary.thresholds = (ThresholdLine("read_failed", "rate<0.1", 0.75, "failed"),)
    page = render_report(summary, scenario_text="a: <b>")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "a: &lt;b&gt;" in page
    assert 'class="verdict failed"' in page
    assert "<td>read</td><td>timeout</td><td>2</td>" in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_junit_marks_an_aborted_run_as_an_error() -> None:
    summary = Summary(scenario="smoke", aborted=True, duration=1.5)
    summary.thresholds = (ThresholdLine("register_failed", "rate==0", 0.0, "passed"),)
    root = ET.fromstring(junit_xml(summary))
    suite = root.find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("errors"), suite.get("failures")) == ("2", "1", "0")
    assert [c.get("name") for c in suite.iter("testcase")] == ["register_failed rate==0", "run"]
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties["verdict"] == "aborted"


def test_a_long_series_is_drawn_with_at_most_max_points() -> None:
    from fleet.report.charts import MAX_POINTS

    records = []
    for index in range(3 * MAX_POINTS + 1):
        record = Interval(index, float(index), 1.0, devices={"registered": 1})
        record.operations[Operation.UPDATE].count = 1
        records.append(record)
    charts, notes = time_charts(records)
    # 1801 records: runs of ceil(1801 / 600) = 4, so 451 points of 4 s
    assert 'data-points="451"' in charts[0]
    assert "4 s per point" in notes[0]
