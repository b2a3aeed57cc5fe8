"""Failures counted by cause: recorded, merged, written to JSON and text, shown live.

The contract other parts rely on: ``OperationStats.record(..., reason=)``, and per
operation ``"failure_reasons": {"timeout": 3, "port unreachable": 2}`` in the summary
JSON (absent when none; merged by adding).
"""

from __future__ import annotations

from fleet.client.events import Operation as ClientOperation
from fleet.client.events import RegistrationFailed, RequestServed, SendDone
from fleet.metrics import Operation, RunMetrics, Summary
from fleet.metrics.operations import OTHER_REASON, OperationStats
from fleet.runner.events import MetricsBridge
from fleet.runner.progress import Snapshot, merge_snapshots, status_line


def test_real_failures_are_counted_by_cause_injected_ones_are_not() -> None:
    stats = OperationStats()
    stats.record(0.1, ok=False, reason="timeout")
    stats.record(0.1, ok=False, reason="timeout")
    stats.record(None, ok=False, reason="port unreachable")
    stats.record(None, ok=False)  # nobody said why
    stats.record(0.1, ok=False, injected=True, reason="timeout")  # a fault: counted apart
    stats.record(0.1, ok=True, reason="ignored for a success")
    assert stats.reasons == {"timeout": 2, "port unreachable": 1, OTHER_REASON: 1}
    other = OperationStats()
    other.record(None, ok=False, reason="timeout")
    stats.merge(other)
    assert stats.reasons["timeout"] == 3


def _summary(**reasons: int) -> Summary:
    metrics = RunMetrics()
    for cause, n in reasons.items():
        for _ in range(n):
            metrics.record(Operation.REGISTER, 0.5, ok=False, reason=cause.replace("_", " "))
    metrics.record(Operation.UPDATE, 0.1)
    return Summary.from_metrics(metrics, scenario="s", devices=3)


def test_the_json_carries_failure_reasons_per_operation_and_merges_them() -> None:
    summary = _summary(timeout=3, port_unreachable=2)
    operations = summary.to_json()["operations"]
    assert operations["register"]["failure_reasons"] == {  # type: ignore[index]
        "port unreachable": 2,
        "timeout": 3,
    }
    assert "failure_reasons" not in operations["update"]  # type: ignore[index]
    again = Summary.loads(summary.dumps())
    assert again.operations[Operation.REGISTER].failure_reasons == {
        "timeout": 3,
        "port unreachable": 2,
    }
    merged = Summary.merge_all([again, _summary(timeout=1, **{"4.00 Bad Request": 1})])
    assert merged.operations[Operation.REGISTER].failure_reasons == {
        "timeout": 4,
        "port unreachable": 2,
        "4.00 Bad Request": 1,
    }


def test_the_text_summary_shows_the_most_frequent_cause_first() -> None:
    text = _summary(timeout=1, port_unreachable=4).table(ascii=True)
    assert "\nfailure reasons\n  register  port unreachable 4, timeout 1\n" in text
    assert "failure reasons" not in _summary().table()


def test_the_bridge_counts_each_event_under_its_cause() -> None:
    metrics = RunMetrics()
    bridge = MetricsBridge(metrics)
    bridge(
        RegistrationFailed(
            "d", 1.0, "Register", "CoapTimeout: ...", 1, 1, 60.0, 0.0, False, "timeout"
        )
    )
    bridge(
        RegistrationFailed(
            "d", 2.0, "Update", "answered 4.00 ...", 1, 1, 60.0, 1.0, False, "4.00 Bad Request"
        )
    )
    served = RequestServed(
        "d", 3.0, "GET", ClientOperation.READ, "/9/0", None, "4.04", 0.0, ("::1", 1)
    )
    bridge(served)
    bridge(SendDone("d", 4.0, (), 112, None, "no answer from ..."))
    ops = metrics.operations
    assert ops[Operation.REGISTER].reasons == {"timeout": 1}
    assert ops[Operation.UPDATE].reasons == {"4.00 Bad Request": 1}
    assert ops[Operation.READ].reasons == {"4.04 Not Found": 1}
    assert ops[Operation.SEND].reasons == {"no answer": 1}


def test_the_progress_line_counts_devices_failing_to_register_and_the_main_cause() -> None:
    quiet = Snapshot(5.0, {"registered": 4}, 4)
    assert "failing" not in status_line(quiet)
    one = Snapshot(5.0, {"waiting-retry": 3}, 0, errors=3, register_reasons={"timeout": 1})
    two = Snapshot(
        5.5, {"failed": 2}, 0, errors=5, register_reasons={"port unreachable": 4, "timeout": 1}
    )
    both = merge_snapshots([one, two])
    assert both.failing == 5 and both.register_reasons == {"timeout": 2, "port unreachable": 4}
    assert status_line(both).endswith("errors 8  failing to register 5 (port unreachable)")
