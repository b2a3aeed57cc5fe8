"""Per-operation counting, the end-of-run Summary (JSON, merge, table) and the threshold metrics."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.metrics import (
    METRIC_KINDS,
    SCHEMA_VERSION,
    Operation,
    RunMetrics,
    Summary,
    SummaryError,
    ThresholdLine,
)
from fleet.scenario.thresholds import METRICS, ThresholdStatus, evaluate, parse_threshold

EVENT = st.tuples(
    st.sampled_from(list(Operation)),
    st.none() | st.floats(0, 100, allow_nan=False),
    st.sampled_from(["ok", "failed", "injected"]),
)


def feed(metrics: RunMetrics, events: list[tuple[Operation, float | None, str]]) -> None:
    for op, duration, result in events:
        metrics.record(op, duration, ok=result == "ok", injected=result == "injected")


def test_counts_failures_injected_faults_and_late_starts_apart() -> None:
    metrics = RunMetrics(late_after=1.0)
    metrics.record(Operation.REGISTER, 0.2)
    metrics.record(Operation.REGISTER, 93.0, ok=False)
    metrics.record(Operation.REGISTER, None, injected=True)
    assert not metrics.started(Operation.UPDATE, due=10.0, now=10.5)
    assert metrics.started(Operation.UPDATE, due=10.0, now=12.5)
    stats = metrics.stats(Operation.REGISTER)
    assert (stats.count, stats.failures, stats.injected, stats.succeeded) == (3, 1, 1, 1)
    assert stats.durations.count == 2 and stats.durations.max == 93.0
    assert metrics.stats(Operation.UPDATE).late == 1 and metrics.late_operations == 1
    assert metrics.lateness.count == 2 and metrics.lateness.max == 2.5


def test_device_states_move() -> None:
    metrics = RunMetrics()
    for _ in range(3):
        metrics.move_device(None, "registering")
    metrics.move_device("registering", "registered")
    metrics.move_device("registering", None)
    assert metrics.devices == {"registering": 1, "registered": 1}
    metrics.set_devices({"registered": 5, "failed": 0})
    assert metrics.devices == {"registered": 5}


def summary_of(
    events: list[tuple[Operation, float | None, str]], *, shards: int = 1, **kw: object
) -> Summary:
    """A run's summary; per shard also 2 retransmissions, 1 late notify start, 1 device."""
    metrics = RunMetrics()
    feed(metrics, events)
    for _ in range(shards):
        metrics.retransmitted(2)
        metrics.started(Operation.NOTIFY, 0.0, 3.0)
        metrics.move_device(None, "registered")
    return Summary.from_metrics(metrics, **kw)  # type: ignore[arg-type]


@settings(max_examples=50, deadline=None)
@given(st.lists(EVENT, max_size=60))
def test_json_round_trip_is_exact(events: list[tuple[Operation, float | None, str]]) -> None:
    summary = summary_of(
        events, scenario="smoke", seed=42, started=1.7e9, duration=60.0, devices=10
    )
    summary.thresholds = (ThresholdLine("register_duration", "p(95)<2s", 0.5, "passed"),)
    text = summary.dumps()
    data = json.loads(text)
    assert data["schema_version"] == SCHEMA_VERSION
    assert set(data["operations"]) == {op.value for op in Operation}
    assert set(data["metrics"]) == set(METRIC_KINDS)
    again = Summary.loads(text)
    assert again == summary
    assert again.dumps() == text


@settings(max_examples=50, deadline=None)
@given(st.lists(EVENT, max_size=80), st.integers(1, 4), st.randoms(use_true_random=False))
def test_merging_shard_summaries_equals_one_run_of_everything(
    events: list[tuple[Operation, float | None, str]], shards: int, rnd: random.Random
) -> None:
    parts: list[list[tuple[Operation, float | None, str]]] = [[] for _ in range(shards)]
    for event in events:
        parts[rnd.randrange(shards)].append(event)
    summaries = [
        summary_of(part, scenario="soak", seed=1, started=100.0 + i, duration=50.0 + i, devices=5)
        for i, part in enumerate(parts)
    ]
    # the summaries travel as JSON between machines
    merged = Summary.merge_all(Summary.loads(s.dumps()) for s in summaries)
    whole = summary_of(
        events,
        shards=shards,
        scenario="soak",
        seed=1,
        started=100.0,
        duration=50.0 + 2 * (shards - 1),  # the span: the last shard started and ended latest
        devices=5 * shards,
    )
    whole.shards = shards
    assert merged == whole
    assert merged.retransmissions == 2 * shards and merged.lateness.count == shards
    for name in METRIC_KINDS:
        a, b = merged.metric(name), whole.metric(name)
        assert (a.count, a.avg, a.min, a.max, a.percentile(99)) == (
            b.count,
            b.avg,
            b.min,
            b.max,
            b.percentile(99),
        )


def test_merge_keeps_what_differs_visible() -> None:
    a = Summary(scenario="a", seed=1, aborted=True)
    b = Summary(scenario="b", seed=2)
    merged = a.merge(b)
    assert merged.scenario == "a + b" and merged.seed is None and merged.aborted
    assert Summary.merge_all([]) == Summary()


def test_merged_duration_spans_machines_started_apart() -> None:
    first = Summary(started=1000.0, duration=60.0)
    later = Summary(started=1010.0, duration=55.0)  # started 10 s later, ended 5 s later
    merged = Summary.merge_all([first, later])
    assert (merged.started, merged.duration) == (1000.0, 65.0)
    unknown = Summary.merge_all([first, Summary(duration=70.0)])  # a start is missing
    assert unknown.duration == 70.0


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"schema_version": SCHEMA_VERSION + 1}, "not supported"),
        ({"schema_version": "1"}, "must be an integer"),
        ({"operations": {"reboot": {}}}, "unknown operation"),
        ({"devices": -3}, "devices"),
        ({"duration": "long"}, "duration"),
        ({"lateness": None}, "lateness"),
        ({"operations": {"read": {"count": 1, "durations": {"buckets": 3}}}}, "bad summary"),
    ],
)
def test_bad_json_is_refused_with_a_reason(change: dict[str, object], fragment: str) -> None:
    data = {**Summary().to_json(), **change}
    with pytest.raises(SummaryError) as info:
        Summary.from_json(data)
    assert fragment in str(info.value)
    with pytest.raises(SummaryError):
        Summary.loads("{not json")


def test_every_threshold_metric_of_the_scenario_is_produced_with_its_kind() -> None:
    summary = summary_of([], duration=10.0)
    produced = summary.metrics()
    for name, info in METRICS.items():
        assert name in produced, name
        assert METRIC_KINDS[name] == info.kind.value


def test_thresholds_evaluate_on_summary_metrics() -> None:
    events = [(Operation.REGISTER, 0.1 * (i + 1), "ok") for i in range(20)]
    events += [(Operation.READ, 0.01, "ok")] * 9 + [(Operation.WRITE, 0.01, "failed")]
    events += [(Operation.NOTIFY, 0.0, "ok")] * 30
    summary = summary_of(events, duration=10.0)

    def status(metric: str, expression: str) -> ThresholdStatus:
        return evaluate(parse_threshold(metric, expression), summary.metric(metric)).status

    # p95 of 0.1 s .. 2.0 s is 1.9 s (within the histogram's 0.4 %), below the max
    assert status("register_duration", "p(95)<1.95s") is ThresholdStatus.PASSED
    assert status("register_duration", "p(95)<1.85s") is ThresholdStatus.FAILED
    assert status("register_duration", "max<2001ms") is ThresholdStatus.PASSED
    assert status("register_duration", "med<1.0s") is ThresholdStatus.FAILED
    assert status("request_failed", "rate<=0.1") is ThresholdStatus.PASSED
    assert status("request_failed", "rate<10%") is ThresholdStatus.FAILED
    assert status("notifications_sent", "rate>=3") is ThresholdStatus.PASSED
    assert status("notifications_sent", "count>30") is ThresholdStatus.FAILED
    assert status("late_operations", "count==1") is ThresholdStatus.PASSED
    assert status("send_duration", "p(99)<1s") is ThresholdStatus.FAILED
    assert status("send_failed", "rate<0.01") is ThresholdStatus.FAILED
    allowed = parse_threshold("send_failed", "rate<0.01", allow_empty=True)
    assert evaluate(allowed, summary.metric("send_failed")).status is ThresholdStatus.NO_DATA


def test_the_table_shows_operations_counters_states_and_threshold_marks() -> None:
    events = [(Operation.REGISTER, 0.012, "ok")] * 98 + [(Operation.REGISTER, 2.5, "failed")] * 2
    events += [(Operation.READ, 0.0004, "injected")]
    summary = summary_of(events, scenario="storm", seed=7, duration=61.0, devices=100)
    summary.thresholds = (
        ThresholdLine("register_duration", "p(95)<2s", 0.012, "passed"),
        ThresholdLine("request_failed", "rate<0.01", 0.5, "failed"),
        ThresholdLine("send_duration", "p(95)<1s", None, "no data"),
    )
    text = summary.table()
    lines = text.splitlines()
    assert lines[0] == "storm · seed 7 · 100 devices · 61.0s"
    register = next(line for line in lines if line.startswith("register"))
    # 100 attempts in 61 s: 1.64/s; mean (98 * 12 ms + 2 * 2.5 s) / 100 = 61.8 ms
    assert register.split() == [
        *("register", "100", "2", "0", "0", "1.64", "61.8ms", "12ms", "12ms", "2.5s", "2.5s")
    ]
    read = next(line for line in lines if line.startswith("read"))
    assert read.split()[1:4] == ["1", "0", "1"] and "400µs" in read
    assert not any(line.startswith("send") for line in lines)
    assert "retransmissions 2" in text and "late operations 1" in text
    assert "devices: registered 1" in text
    assert "✓ register_duration  p(95)<2s   12ms" in text
    assert "✗ request_failed     rate<0.01  0.5" in text
    assert "- send_duration      p(95)<1s   no data" in text
    plain = summary.table(ascii=True)
    assert plain.isascii() and "FAIL request_failed" in plain


def test_injected_faults_are_summarised_merged_and_read_back() -> None:
    metrics = RunMetrics()
    metrics.fault_injected("reject 4.05", 3)
    metrics.fault_injected("reboot")
    metrics.record(Operation.WRITE, 0.01, ok=False, injected=True)
    one = Summary.from_metrics(metrics, scenario="f", devices=2)
    other = Summary.from_metrics(RunMetrics(), scenario="f", devices=2)
    other.faults = {"reboot": 2, "drop register": 1}
    merged = one.merge(other)
    assert merged.faults == {"reject 4.05": 3, "reboot": 3, "drop register": 1}
    assert merged.faults_injected == 7
    data = json.loads(merged.dumps())
    assert data["faults"] == {"drop register": 1, "reboot": 3, "reject 4.05": 3}
    assert Summary.loads(merged.dumps()).faults == merged.faults
    del data["faults"]  # a document from before faults were summarised
    assert Summary.from_json(data).faults == {}
    table = merged.table(ascii=True)
    section = table[table.index("faults (injected") :].splitlines()
    assert section[0] == "faults (injected on purpose, not counted as failures): 7"
    assert [line.split() for line in section[1:]] == [
        ["drop", "register", "1"], ["reboot", "3"], ["reject", "4.05", "3"],
    ]  # fmt: skip
    assert "faults (injected" not in Summary().table()


def test_the_table_names_its_columns_as_the_json_does() -> None:
    summary = summary_of([(Operation.REGISTER, 0.01, "failed"), (Operation.READ, 0.01, "injected")])
    header = summary.table().splitlines()[2].split()
    register = summary.to_json()["operations"]["register"]  # type: ignore[index]
    for column in ("count", "failures", "injected", "late"):
        assert column in header and column in register
    assert "failed" not in header and "faults" not in header
