"""Files people open after a run: the HTML report, the time series as CSV, JUnit XML.

Everything here reads finished data (a :class:`~fleet.metrics.Summary`, the
:class:`~fleet.metrics.timeseries.Interval` records) and writes text; nothing
runs during the run. :mod:`fleet.report.html` renders the one self-contained
page (charts as inline SVG from :mod:`fleet.report.svg`), :mod:`fleet.report.csv`
the Locust-like CSV files, :mod:`fleet.report.junit` the thresholds as test cases.
"""
