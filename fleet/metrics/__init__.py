"""What a run did: per-operation counts and latency distributions, the summary, Prometheus.

:class:`RunMetrics` is fed by the runner and clients while a run goes on;
:class:`Summary` is the end-of-run result (text table, stable JSON that merges
exactly across shards and machines); :mod:`fleet.metrics.prometheus` exposes
the live numbers to Prometheus on a registry of its own.
"""

from fleet.metrics.histogram import RELATIVE_ERROR, LatencyHistogram
from fleet.metrics.operations import (
    PROMETHEUS_BUCKETS,
    SERVED,
    Operation,
    OperationStats,
    RunMetrics,
)
from fleet.metrics.summary import (
    SCHEMA_VERSION,
    OperationSummary,
    Summary,
    SummaryError,
    ThresholdLine,
)
from fleet.metrics.views import METRIC_KINDS, CounterStats, MetricView, RateStats

__all__ = [
    "METRIC_KINDS",
    "PROMETHEUS_BUCKETS",
    "RELATIVE_ERROR",
    "SCHEMA_VERSION",
    "SERVED",
    "CounterStats",
    "LatencyHistogram",
    "MetricView",
    "Operation",
    "OperationStats",
    "OperationSummary",
    "RateStats",
    "RunMetrics",
    "Summary",
    "SummaryError",
    "ThresholdLine",
]
