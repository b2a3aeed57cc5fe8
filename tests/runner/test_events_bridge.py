"""MetricsBridge: notification delays, retransmissions and injected uplink failures."""

from __future__ import annotations

import pytest

from fleet.client.events import (
    Deregistered,
    NotificationSent,
    RegistrationFailed,
    Retransmitted,
)
from fleet.metrics import Operation, RunMetrics
from fleet.runner.events import MetricsBridge

REMOTE = ("127.0.0.1", 5683)


@pytest.mark.asyncio
async def test_notify_records_how_late_each_notification_left() -> None:
    metrics = RunMetrics()
    bridge = MetricsBridge(metrics)
    bridge(NotificationSent("d", 130.0, (), 60, False, "2.05", REMOTE, due=100.0))
    bridge(NotificationSent("d", 131.0, (), 60, False, "2.05", REMOTE, due=131.0))
    notify = metrics.stats(Operation.NOTIFY)
    assert notify.count == 2 and notify.durations.count == 2
    assert notify.durations.max == pytest.approx(30.0, rel=0.01)
    assert notify.durations.min == pytest.approx(0.0, abs=1e-6)


@pytest.mark.asyncio
async def test_retransmissions_reach_the_run_metrics() -> None:
    metrics = RunMetrics()
    bridge = MetricsBridge(metrics)
    for when in (2.0, 6.0, 14.0):
        bridge(Retransmitted("d", when, REMOTE))
    assert metrics.retransmissions == 3
    assert bridge.errors == 0


@pytest.mark.asyncio
async def test_failures_made_by_uplink_faults_are_counted_apart() -> None:
    metrics = RunMetrics()
    bridge = MetricsBridge(metrics)
    bridge(RegistrationFailed("d", 93.0, "Register", "dropped", 1, 1, 60.0, 0.0, True))
    bridge(RegistrationFailed("d", 200.0, "Update", "answered 5.03", 1, 1, 60.0, 199.0))
    bridge(Deregistered("d", 300.0, "/rd/1", False, "stopped", 250.0, True))
    register = metrics.stats(Operation.REGISTER)
    assert (register.count, register.injected, register.failures) == (1, 1, 0)
    assert register.durations.max == pytest.approx(93.0, rel=0.01)
    assert metrics.stats(Operation.UPDATE).failures == 1
    assert metrics.stats(Operation.DEREGISTER).injected == 1
    assert bridge.errors == 1


@pytest.mark.asyncio
async def test_a_failure_before_anything_was_sent_has_no_duration() -> None:
    metrics = RunMetrics()
    bridge = MetricsBridge(metrics)
    bridge(RegistrationFailed("d", 5.0, "Register", "DtlsHandshakeError: no answer", 1, 1, 60.0))
    register = metrics.stats(Operation.REGISTER)
    assert (register.count, register.failures, register.durations.count) == (1, 1, 0)
