"""One Prometheus endpoint for several workers: the collector reads the merged view at scrape."""

from __future__ import annotations

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from fleet.metrics import Operation, RunMetrics
from fleet.metrics.prometheus import metrics_registry


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_a_source_function_is_read_at_every_scrape_and_sums_the_workers() -> None:
    workers = [RunMetrics(), RunMetrics()]
    registry = metrics_registry(lambda: RunMetrics.merged(workers))
    before = samples(generate_latest(registry).decode())
    assert (
        before[("lwm2m_fleet_operations_total", (("operation", "register"), ("result", "ok")))] == 0
    )
    workers[0].record(Operation.REGISTER, 0.004)
    workers[1].record(Operation.REGISTER, 0.3)
    workers[1].record(Operation.REGISTER, 0.2, ok=False)
    workers[0].move_device(None, "registered")
    workers[1].move_device(None, "registered")
    after = samples(generate_latest(registry).decode())
    ok = ("lwm2m_fleet_operations_total", (("operation", "register"), ("result", "ok")))
    failed = ("lwm2m_fleet_operations_total", (("operation", "register"), ("result", "failed")))
    assert (after[ok], after[failed]) == (2, 1)
    assert after[("lwm2m_fleet_devices", (("state", "registered"),))] == 2
    bucket = "lwm2m_fleet_operation_duration_seconds_bucket"
    assert after[(bucket, (("le", "0.005"), ("operation", "register")))] == 1
    assert after[(bucket, (("le", "0.25"), ("operation", "register")))] == 2
    assert after[(bucket, (("le", "+Inf"), ("operation", "register")))] == 3
