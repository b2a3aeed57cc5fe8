"""Prometheus metrics of a running fleet, on a registry of its own (never the global one).

:class:`FleetCollector` reads :class:`~fleet.metrics.operations.RunMetrics`
at scrape time, so nothing is counted twice. Exposed (no per-device labels)::

    lwm2m_fleet_devices{state}                            gauge
    lwm2m_fleet_operations_total{operation,result}        counter  result: ok, failed, injected
    lwm2m_fleet_late_operations_total{operation}          counter  started late: process saturated
    lwm2m_fleet_operation_duration_seconds{operation}     histogram (buckets up to 93 s, CoAP's
                                                                     MAX_TRANSMIT_WAIT, and 120 s)
    lwm2m_fleet_start_lateness_seconds                    histogram how late scheduled work started
    lwm2m_fleet_notifications_total{result}               counter  result: ok, failed
    lwm2m_fleet_retransmissions_total                     counter
    lwm2m_fleet_faults_injected_total{action}             counter  faults a fault plan injected
    lwm2m_fleet_build_info{version,python}                gauge (1)

With several shard processes the parent passes a function returning the
merged :class:`RunMetrics` of every worker, so one endpoint covers the run.

:func:`serve` exposes a registry over HTTP on 127.0.0.1 by default, in a
daemon thread; ``close()`` stops it.
"""

from __future__ import annotations

import platform
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from socketserver import ThreadingMixIn
from typing import Any, Final
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, make_wsgi_app
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from fleet.metrics.operations import PROMETHEUS_BUCKETS, Operation, RunMetrics
from fleet.metrics.version import package_version

PREFIX: Final = "lwm2m_fleet"


def _buckets(counts: Sequence[int]) -> list[tuple[str, float]]:
    cumulative, result = 0, []
    for bound, n in zip((*PROMETHEUS_BUCKETS, float("inf")), counts, strict=True):
        cumulative += n
        result.append(("+Inf" if bound == float("inf") else repr(bound), float(cumulative)))
    return result


class FleetCollector(Collector):
    """Turns a :class:`RunMetrics` into Prometheus metric families at each scrape.

    ``metrics`` is either the metrics object or a function returning the one
    to read now (the merged view of several shard processes).
    """

    def __init__(self, metrics: RunMetrics | Callable[[], RunMetrics]) -> None:
        self._source = metrics

    @property
    def metrics(self) -> RunMetrics:
        source = self._source
        return source if isinstance(source, RunMetrics) else source()

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        metrics = self.metrics
        devices = GaugeMetricFamily(f"{PREFIX}_devices", "Devices by state.", labels=["state"])
        for state, n in sorted(dict(metrics.devices).items()):
            devices.add_metric([state], n)
        yield devices

        operations = CounterMetricFamily(
            f"{PREFIX}_operations",
            "Completed operations by result (injected: failed on purpose by a fault plan).",
            labels=["operation", "result"],
        )
        late = CounterMetricFamily(
            f"{PREFIX}_late_operations",
            "Operations started late because the process was saturated.",
            labels=["operation"],
        )
        durations = HistogramMetricFamily(
            f"{PREFIX}_operation_duration_seconds",
            "Duration of operations (notify: how late a notification left after it was due).",
            labels=["operation"],
        )
        for op in Operation:
            stats = metrics.operations[op]
            operations.add_metric([op.value, "ok"], stats.succeeded)
            operations.add_metric([op.value, "failed"], stats.failures)
            operations.add_metric([op.value, "injected"], stats.injected)
            late.add_metric([op.value], stats.late)
            durations.add_metric(
                [op.value],
                buckets=_buckets(list(stats.prometheus)),
                sum_value=stats.durations.sum_ns / 1e9,
            )
        yield operations
        yield late
        yield durations

        lateness = HistogramMetricFamily(
            f"{PREFIX}_start_lateness_seconds",
            "How late scheduled operations started compared with when they were due.",
        )
        lateness.add_metric(
            [],
            buckets=_buckets(list(metrics.lateness_prometheus)),
            sum_value=metrics.lateness.sum_ns / 1e9,
        )
        yield lateness

        notify = metrics.operations[Operation.NOTIFY]
        notifications = CounterMetricFamily(
            f"{PREFIX}_notifications", "Notifications sent.", labels=["result"]
        )
        notifications.add_metric(["ok"], notify.count - notify.failures)
        notifications.add_metric(["failed"], notify.failures)
        yield notifications
        bootstrap = metrics.operations[Operation.BOOTSTRAP]
        bootstraps = CounterMetricFamily(
            f"{PREFIX}_bootstrap",
            "Bootstraps (Bootstrap-Request until Finish) by result.",
            labels=["result"],
        )
        bootstraps.add_metric(["ok"], bootstrap.succeeded)
        bootstraps.add_metric(["failed"], bootstrap.failures)
        bootstraps.add_metric(["injected"], bootstrap.injected)
        yield bootstraps
        yield HistogramMetricFamily(
            f"{PREFIX}_bootstrap_duration_seconds",
            "Duration of bootstraps, Bootstrap-Request until Finish accepted or failed.",
            buckets=_buckets(list(bootstrap.prometheus)),
            sum_value=bootstrap.durations.sum_ns / 1e9,
        )
        yield CounterMetricFamily(
            f"{PREFIX}_retransmissions",
            "Confirmable messages sent again.",
            value=metrics.retransmissions,
        )
        faults = CounterMetricFamily(
            f"{PREFIX}_faults_injected",
            "Faults injected on purpose by the scenario's fault plan, by action.",
            labels=["action"],
        )
        for action, n in sorted(dict(metrics.faults).items()):
            faults.add_metric([action], n)
        yield faults
        build = GaugeMetricFamily(
            f"{PREFIX}_build_info", "Version of lwm2m-fleet.", labels=["version", "python"]
        )
        build.add_metric([package_version(), platform.python_version()], 1)
        yield build


def metrics_registry(metrics: RunMetrics | Callable[[], RunMetrics]) -> CollectorRegistry:
    """A new registry (not the global one) holding the fleet's collector."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FleetCollector(metrics))
    return registry


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class MetricsServer:
    """An HTTP server exposing one registry; ``close()`` stops it."""

    def __init__(self, server: WSGIServer, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/metrics"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def serve(port: int, host: str = "127.0.0.1", *, registry: CollectorRegistry) -> MetricsServer:
    """Serve ``registry`` at ``http://host:port/metrics`` (port 0: any free port)."""

    class Server(_Server):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    server = make_server(host, port, make_wsgi_app(registry), Server, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True)
    thread.start()
    return MetricsServer(server, thread)
