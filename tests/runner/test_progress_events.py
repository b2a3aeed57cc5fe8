"""The metrics bridge (client events -> RunMetrics) and the progress lines."""

from __future__ import annotations

import dataclasses
import io

import pytest

from fleet.client.events import (
    Deregistered,
    NotificationSent,
    Registered,
    RegistrationFailed,
    RequestServed,
    SendDone,
    Updated,
)
from fleet.client.events import Operation as ClientOperation
from fleet.client.registration import update_due
from fleet.clock import ManualClock
from fleet.metrics import Operation, RunMetrics
from fleet.runner.events import MetricsBridge
from fleet.runner.progress import Progress, Snapshot, status_line
from fleet.runner.shard import Shard
from fleet.scenario import load_scenario_text

pytestmark = pytest.mark.asyncio


def served(op: ClientOperation, code: str) -> RequestServed:
    return RequestServed("d", 1.0, "GET", op, "/3/0", 60, code, 0.002, ("127.0.0.1", 5683))


async def test_bridge_measures_registration_from_the_events_start() -> None:
    metrics = RunMetrics()
    bridge = MetricsBridge(metrics)
    bridge.began("d", Operation.REGISTER, 10.0)  # what the runner knows; the event wins
    bridge(RegistrationFailed("d", 12.0, "Register", "timeout", 1, 1, 60.0, started=10.5))
    bridge(Registered("d", 72.5, "/rd/1", 100, started=72.0))
    register = metrics.stats(Operation.REGISTER)
    assert (register.count, register.failures) == (2, 1)
    assert register.durations.min == pytest.approx(0.5, rel=0.01)
    assert register.durations.max == pytest.approx(1.5, rel=0.01)
    due = update_due(72.5, 100)
    bridge(Updated("d", due + 0.25, "/rd/1", (), False, started=due))
    update = metrics.stats(Operation.UPDATE)
    assert update.count == 1 and update.durations.max == pytest.approx(0.25, rel=0.01)
    bridge(Deregistered("d", 200.5, "/rd/1", False, "stopped", started=200.0))
    deregister = metrics.stats(Operation.DEREGISTER)
    assert (deregister.count, deregister.failures) == (1, 1)
    assert deregister.durations.max == pytest.approx(0.5, rel=0.01)
    assert bridge.errors == 2


async def test_an_event_without_its_start_is_measured_from_the_runners_mark() -> None:
    metrics = RunMetrics()
    bridge = MetricsBridge(metrics)
    bridge.began("d", Operation.DEREGISTER, 200.0)
    bridge(Deregistered("d", 200.5, "/rd/1", True, "stopped"))
    bridge(Updated("d", 5.0, "/rd/1", ("lt=50",), False))  # no start anywhere: no duration
    assert metrics.stats(Operation.DEREGISTER).durations.max == pytest.approx(0.5, rel=0.01)
    assert metrics.stats(Operation.UPDATE).count == 1
    assert metrics.stats(Operation.UPDATE).durations.count == 0


async def test_bridge_counts_served_requests_notifications_and_sends() -> None:
    metrics = RunMetrics()
    bridge = MetricsBridge(metrics)
    bridge(served(ClientOperation.READ, "2.05"))
    bridge(served(ClientOperation.READ_COMPOSITE, "4.04"))
    bridge(served(ClientOperation.WRITE_ATTRIBUTES, "2.04"))
    bridge(served(ClientOperation.UNKNOWN, "4.05"))
    bridge(NotificationSent("d", 1.0, (), 60, False, "2.05", ("127.0.0.1", 1)))
    bridge(SendDone("d", 1.0, (), 112, None, "timeout"))
    read = metrics.stats(Operation.READ)
    assert (read.count, read.failures) == (2, 1)
    assert metrics.stats(Operation.WRITE_ATTRIBUTES).count == 1
    assert metrics.stats(Operation.NOTIFY).count == 1
    assert metrics.stats(Operation.SEND).failures == 1
    assert sum(s.count for s in metrics.operations.values()) == 5


async def test_status_line() -> None:
    before = Snapshot(10.0, {"registered": 5}, registrations=5)
    now = Snapshot(12.0, {"waiting": 3, "registered": 10, "registering": 2}, 9, served=4, errors=1)
    line = status_line(now, before)
    assert line == (
        "  12.0s  registered 10 registering 2 waiting 3  reg/s 2.0  served 4"
        "  notifications 0  errors 1"
    )


async def test_progress_prints_a_line_every_interval() -> None:
    scenario = load_scenario_text(
        "version: 1\nserver: coap://127.0.0.1:1\nduration: 90s\n"
        "groups:\n  - count: 3\n    endpoint: 'p{index}'\n"
        "phases:\n  - {pause: 50s}\n  - {duration: 10s, arrivalCount: 3}\n"
    )
    clock = ManualClock()
    shard = Shard(scenario, clock=clock)
    shard.start()
    stream = io.StringIO()
    progress = Progress(shard, shard.metrics, stream, clock=clock, interactive=False, interval=5)
    progress.start()
    await clock.advance(12)
    await progress.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("   5.0s  phase 1  waiting 3")  # the unnamed pause, by position
    await shard.stop()


async def test_injected_answers_are_counted_apart_from_failures() -> None:
    metrics = RunMetrics()
    bridge = MetricsBridge(metrics)
    bridge(served(ClientOperation.WRITE, "4.05"))
    injected = dataclasses.replace(served(ClientOperation.WRITE, "4.05"), injected=True)
    bridge(injected)
    write = metrics.stats(Operation.WRITE)
    assert (write.count, write.failures, write.injected) == (2, 1, 1)
    assert bridge.errors == 1
