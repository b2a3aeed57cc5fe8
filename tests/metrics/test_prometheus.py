"""Prometheus exposition of a run's metrics: scraped as text, parsed back, checked."""

from __future__ import annotations

import platform
import urllib.request

from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from fleet.metrics import PROMETHEUS_BUCKETS, Operation, RunMetrics
from fleet.metrics.prometheus import metrics_registry, package_version, serve


def scrape(text: str) -> dict[str, list[Sample]]:
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def value(samples: list[Sample], name: str, **labels: str) -> float:
    found = [s.value for s in samples if s.name == name and s.labels == labels]
    assert len(found) == 1, (name, labels, samples)
    return found[0]


def busy_metrics() -> RunMetrics:
    metrics = RunMetrics()
    for duration in (0.004, 0.02, 0.3, 1.5, 2.0, 5.0, 13.0, 62.0, 93.0, 200.0):
        metrics.record(Operation.REGISTER, duration)
    metrics.record(Operation.REGISTER, 93.0, ok=False)
    metrics.record(Operation.READ, None, injected=True)
    metrics.record(Operation.NOTIFY, 0.01)
    metrics.record(Operation.NOTIFY, 0.02, ok=False)
    metrics.started(Operation.UPDATE, 0.0, 4.0)
    metrics.retransmitted(3)
    for _ in range(4):
        metrics.move_device(None, "registered")
    metrics.move_device(None, "registering")
    return metrics


def test_exposition_carries_every_family_with_the_right_numbers() -> None:
    families = scrape(generate_latest(metrics_registry(busy_metrics())).decode())
    assert value(families["lwm2m_fleet_devices"], "lwm2m_fleet_devices", state="registered") == 4
    ops = families["lwm2m_fleet_operations"]
    name = "lwm2m_fleet_operations_total"
    assert value(ops, name, operation="register", result="ok") == 10
    assert value(ops, name, operation="register", result="failed") == 1
    assert value(ops, name, operation="read", result="injected") == 1
    assert value(ops, name, operation="send", result="ok") == 0
    late = families["lwm2m_fleet_late_operations"]
    assert value(late, "lwm2m_fleet_late_operations_total", operation="update") == 1
    notifications = families["lwm2m_fleet_notifications"]
    assert value(notifications, "lwm2m_fleet_notifications_total", result="ok") == 1
    assert value(notifications, "lwm2m_fleet_notifications_total", result="failed") == 1
    retrans = families["lwm2m_fleet_retransmissions"]
    assert value(retrans, "lwm2m_fleet_retransmissions_total") == 3
    build = families["lwm2m_fleet_build_info"]
    assert (
        value(
            build,
            "lwm2m_fleet_build_info",
            version=package_version(),
            python=platform.python_version(),
        )
        == 1
    )


def test_duration_histograms_reach_coap_retransmission_times_and_count_exactly() -> None:
    families = scrape(generate_latest(metrics_registry(busy_metrics())).decode())
    samples = families["lwm2m_fleet_operation_duration_seconds"]
    name = "lwm2m_fleet_operation_duration_seconds"
    buckets = {
        s.labels["le"]: s.value
        for s in samples
        if s.name == f"{name}_bucket" and s.labels["operation"] == "register"
    }
    bounds = sorted(float(le) for le in buckets)
    for coap in (2.0, 6.0, 14.0, 30.0, 62.0, 93.0):
        assert coap in bounds
    assert bounds[0] <= 0.001 and bounds[-1] == float("inf")
    durations = [0.004, 0.02, 0.3, 1.5, 2.0, 5.0, 13.0, 62.0, 93.0, 200.0, 93.0]
    for le, count in buckets.items():
        assert count == sum(1 for d in durations if d <= float(le)), le
    assert value(samples, f"{name}_count", operation="register") == 11
    assert value(samples, f"{name}_sum", operation="register") == sum(durations)
    lateness = families["lwm2m_fleet_start_lateness_seconds"]
    assert value(lateness, "lwm2m_fleet_start_lateness_seconds_count") == 1
    assert value(lateness, "lwm2m_fleet_start_lateness_seconds_bucket", le="3.0") == 0
    assert value(lateness, "lwm2m_fleet_start_lateness_seconds_bucket", le="6.0") == 1


def test_buckets_resolve_sub_millisecond_operations() -> None:
    metrics = RunMetrics()
    for duration in (0.00004, 0.00008, 0.0002, 0.0004, 0.0009):
        metrics.record(Operation.READ, duration)
    samples = scrape(generate_latest(metrics_registry(metrics)).decode())[
        "lwm2m_fleet_operation_duration_seconds"
    ]
    cumulative = [
        s.value
        for s in samples
        if s.name.endswith("_bucket")
        and s.labels["operation"] == "read"
        and float(s.labels["le"]) <= 0.001
    ]
    assert cumulative == [1, 2, 3, 4, 5]  # five sub-millisecond samples, five buckets


def test_no_per_device_labels_and_not_the_global_registry() -> None:
    registry = metrics_registry(busy_metrics())
    labels = {
        key
        for family in text_string_to_metric_families(generate_latest(registry).decode())
        for sample in family.samples
        for key in sample.labels
    }
    assert labels <= {"state", "operation", "result", "le", "version", "python"}
    assert b"lwm2m_fleet" not in generate_latest(REGISTRY)
    assert len(PROMETHEUS_BUCKETS) == len(set(PROMETHEUS_BUCKETS))


def test_metrics_are_read_at_scrape_time() -> None:
    metrics = RunMetrics()
    registry = metrics_registry(metrics)
    before = scrape(generate_latest(registry).decode())
    metrics.record(Operation.SEND, 0.1)
    after = scrape(generate_latest(registry).decode())
    name = "lwm2m_fleet_operations_total"
    assert value(before["lwm2m_fleet_operations"], name, operation="send", result="ok") == 0
    assert value(after["lwm2m_fleet_operations"], name, operation="send", result="ok") == 1


def test_serve_exposes_the_registry_on_loopback() -> None:
    metrics = busy_metrics()
    server = serve(0, registry=metrics_registry(metrics))
    try:
        assert server.host == "127.0.0.1" and server.port > 0
        with urllib.request.urlopen(server.url, timeout=5) as response:
            body = response.read().decode()
        families = scrape(body)
        ops = families["lwm2m_fleet_operations"]
        assert value(ops, "lwm2m_fleet_operations_total", operation="register", result="ok") == 10
    finally:
        server.close()
