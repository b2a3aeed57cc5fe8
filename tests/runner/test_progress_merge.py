"""The merged live view of several workers: progress snapshots and run metrics add up."""

from __future__ import annotations

import io

import pytest

from fleet.clock import ManualClock
from fleet.metrics import Operation, RunMetrics
from fleet.runner.progress import Progress, Snapshot, merge_snapshots, status_line


def test_snapshots_add_up_and_take_the_latest_time() -> None:
    a = Snapshot(10.0, {"registered": 5, "waiting": 2}, 5, 7, 1, 0)
    b = Snapshot(10.4, {"registered": 3, "registering": 1, "waiting": 0}, 3, 2, 4, 1)
    merged = merge_snapshots([a, b])
    assert merged == Snapshot(10.4, {"registered": 8, "waiting": 2, "registering": 1}, 8, 9, 5, 1)
    line = status_line(merged, Snapshot(9.4, {}, 4))
    assert "registered 8 registering 1 waiting 2" in line
    assert "reg/s 4.0" in line and "served 9" in line and "errors 1" in line
    assert merge_snapshots([]) == Snapshot(0.0)


def test_run_metrics_merge_exactly() -> None:
    one, two, both = RunMetrics(), RunMetrics(), RunMetrics()
    for metrics, samples in ((one, (0.01, 0.5, 3.0)), (two, (0.02, 0.04))):
        for sample in samples:
            metrics.record(Operation.REGISTER, sample)
            both.record(Operation.REGISTER, sample)
    for metrics in (one, both):
        metrics.record(Operation.READ, None, ok=False)
        metrics.started(Operation.UPDATE, 0.0, 2.5)
        metrics.fault_injected("drop", 2)
        metrics.move_device(None, "registered")
    for metrics in (two, both):
        metrics.retransmitted(4)
        metrics.move_device(None, "registered")
        metrics.move_device(None, "registering")
    merged = RunMetrics.merged([one, two])
    for op in Operation:
        assert merged.operations[op].durations == both.operations[op].durations
        assert merged.operations[op].prometheus == both.operations[op].prometheus
        assert merged.operations[op].count == both.operations[op].count
        assert merged.operations[op].failures == both.operations[op].failures
        assert merged.operations[op].late == both.operations[op].late
    assert merged.lateness == both.lateness
    assert merged.lateness_prometheus == both.lateness_prometheus
    assert (merged.retransmissions, merged.devices, merged.faults) == (
        both.retransmissions,
        both.devices,
        both.faults,
    )
    assert one.operations[Operation.REGISTER].count == 3  # the inputs are left alone
    assert RunMetrics.merged([]).operations[Operation.REGISTER].count == 0


@pytest.mark.asyncio
async def test_progress_of_a_source_prints_what_it_returns() -> None:
    stream = io.StringIO()
    numbers = iter([Snapshot(5.0, {"registered": 10}, 10), Snapshot(10.0, {"registered": 30}, 30)])
    progress = Progress.of_source(
        lambda: next(numbers), stream, clock=ManualClock(), interactive=False
    )
    first, second = progress.show(), progress.show()
    assert "registered 10" in first and "reg/s 2.0" in first
    assert "registered 30" in second and "reg/s 4.0" in second
    assert stream.getvalue() == f"{first}\n{second}\n"
