"""Time series records: exact interval deltas, exact merges, JSON lines with clear errors."""

from __future__ import annotations

import json
import random

import pytest

from fleet.metrics import LatencyHistogram, Operation, RunMetrics, Summary
from fleet.metrics.series import SeriesMerger, coarsen, merge_intervals, merge_series, totals
from fleet.metrics.timeseries import (
    Interval,
    IntervalRecorder,
    SeriesError,
    dumps_line,
    late_count,
    read_lines,
)


def feed(metrics: RunMetrics, rng: random.Random, n: int) -> None:
    ops = list(Operation)
    for _ in range(n):
        op = rng.choice(ops)
        ok = rng.random() > 0.1
        metrics.record(op, rng.expovariate(200.0), ok=ok, reason=rng.choice(["timeout", None]))
    metrics.retransmitted(rng.randrange(3))
    metrics.fault_injected("drop", rng.randrange(2))
    metrics.started(Operation.REGISTER, 0.0, rng.random() * 2)


def test_since_is_the_exact_difference_of_buckets_count_and_sum() -> None:
    rng = random.Random(1)
    h = LatencyHistogram()
    for _ in range(200):
        h.record(rng.expovariate(100.0))
    before = h.copy()
    added = LatencyHistogram()
    for _ in range(300):
        value = rng.expovariate(10.0)
        h.record(value)
        added.record(value)
    delta = h.since(before)
    assert delta.buckets() == added.buckets()
    assert delta.count == added.count and delta.sum_ns == added.sum_ns
    assert delta.percentile(50) == pytest.approx(added.percentile(50), rel=0.004)
    with pytest.raises(ValueError):
        before.since(h)  # not an older copy


def test_intervals_add_up_to_the_summary() -> None:
    rng = random.Random(2)
    metrics = RunMetrics()
    recorder = IntervalRecorder(metrics, interval=1.0, wall=1_700_000_000.0)
    records = []
    for tick in range(1, 6):
        feed(metrics, rng, 40)
        records.append(recorder.sample(float(tick), {"registered": tick, "waiting": 0}))
    feed(metrics, rng, 7)
    records.append(recorder.sample(5.25, {"stopped": 5}))
    assert [r.index for r in records] == list(range(6))
    assert records[-1].start == 5.0 and records[-1].span == 0.25
    assert records[0].devices == {"registered": 1}  # zero counts are left out
    assert records[2].wall == 1_700_000_002.0
    summary = Summary.from_metrics(metrics)
    total = totals(records)
    for op in Operation:
        got, want = total.operations[op], summary.operations[op]
        assert (got.count, got.failures, got.injected, got.late) == (
            want.count,
            want.failures,
            want.injected,
            want.late,
        )
        assert got.durations.buckets() == want.durations.buckets()
        assert got.durations.sum_ns == want.durations.sum_ns
        assert got.failure_reasons == want.failure_reasons
    assert total.retransmissions == summary.retransmissions
    assert total.faults == summary.faults
    assert total.lateness.buckets() == summary.lateness.buckets()
    assert total.devices == {"stopped": 5}


def test_shards_merge_to_what_one_recorder_of_everything_sees() -> None:
    rngs = [random.Random(10), random.Random(11)]
    shards = [RunMetrics(), RunMetrics()]
    whole = RunMetrics()
    recorders = [IntervalRecorder(m, interval=0.5) for m in shards]
    one = IntervalRecorder(whole, interval=0.5)
    parts: list[Interval] = []
    single: list[Interval] = []
    for tick in range(1, 5):
        for rng, metrics in zip(rngs, shards, strict=True):
            state = rng.getstate()
            feed(metrics, rng, 30)
            rng.setstate(state)
            feed(whole, rng, 30)
        now = tick * 0.5
        parts += [r.sample(now, {"registered": 3}) for r in recorders]
        single.append(one.sample(now, {"registered": 6}))
    merged = merge_intervals(parts)
    assert len(merged) == len(single) == 4
    for got, want in zip(merged, single, strict=True):
        assert got.devices == want.devices == {"registered": 6}
        assert got.retransmissions == want.retransmissions
        for op in Operation:
            assert got.operations[op].count == want.operations[op].count
            assert got.operations[op].durations.buckets() == want.operations[op].durations.buckets()


def test_json_line_round_trip_and_derived_fields() -> None:
    metrics = RunMetrics()
    recorder = IntervalRecorder(metrics, interval=2.0, wall=100.0)
    metrics.record(Operation.REGISTER, 0.004)
    metrics.record(Operation.REGISTER, 0.006, ok=False, reason="timeout")
    metrics.record(Operation.NOTIFY, 1.5)  # a notification 1.5 s late
    metrics.record(Operation.NOTIFY, 0.2)
    record = recorder.sample(2.0, {"registered": 2})
    line = dumps_line(record)
    assert line.endswith("\n") and "\n" not in line[:-1]
    data = json.loads(line)
    assert data["operations"]["register"]["count"] == 2
    assert data["operations"]["register"]["failures"] == 1
    assert data["operations"]["register"]["failure_reasons"] == {"timeout": 1}
    assert data["operations"]["register"]["per_second"] == 1.0
    assert set(data["operations"]) == {"register", "notify"}  # only what happened
    assert data["notifications_late"] == 1
    assert data["operations_per_second"] == 2.0
    back = next(read_lines([line]))
    assert back.to_json() == record.to_json()


def test_bad_lines_say_file_line_and_why() -> None:
    good = dumps_line(IntervalRecorder(RunMetrics()).sample(1.0, {}))
    with pytest.raises(SeriesError, match=r"^run\.jsonl:2: not JSON"):
        list(read_lines([good, "{oops\n"], file="run.jsonl"))
    bad = json.loads(good)
    bad["operations"] = {"teleport": {}}
    with pytest.raises(SeriesError, match=r"^s:1: unknown operation 'teleport'"):
        list(read_lines([json.dumps(bad)], file="s"))
    bad = json.loads(good)
    bad["schema_version"] = 7
    with pytest.raises(SeriesError, match="schema_version 7"):
        list(read_lines([json.dumps(bad)], file="s"))
    bad = json.loads(good)
    bad["span"] = -1
    with pytest.raises(SeriesError, match="span must be a number >= 0"):
        list(read_lines([json.dumps(bad)], file="s"))


def _record(index: int, count: int = 1, *, wall: float | None = None) -> Interval:
    record = Interval(index, float(index), 1.0, wall=wall)
    record.operations[Operation.READ].count = count
    return record


def test_merger_hands_out_each_index_once_when_every_source_passed_it() -> None:
    merger = SeriesMerger([0, 1])
    assert merger.add(0, _record(0)) == []
    assert merger.add(0, _record(1)) == []
    done = merger.add(1, _record(0, 5))
    assert [(r.index, r.operations[Operation.READ].count) for r in done] == [(0, 6)]
    assert merger.finish(0) == []  # source 1 has not sent index 1 yet
    done = merger.add(1, _record(1, 2))
    assert [(r.index, r.operations[Operation.READ].count) for r in done] == [(1, 3)]
    # source 0 finished: source 1's records are complete as they come
    assert [r.index for r in merger.add(1, _record(2, 4))] == [2]
    merger.add(1, _record(3, 4))
    merger2 = SeriesMerger([0, 1])
    merger2.add(0, _record(0))
    assert [r.index for r in merger2.flush()] == [0]  # the run is over: what is left
    assert merger2.flush() == []


def test_slices_of_machines_align_on_wall_time() -> None:
    first = [_record(0, 1, wall=1000.0), _record(1, 2, wall=1001.0)]
    # the second machine started 1 s later: its index 0 is the first one's index 1
    second = [_record(0, 10, wall=1001.0), _record(1, 20, wall=1002.0)]
    merged = merge_series([first, second])
    assert [(r.index, r.operations[Operation.READ].count) for r in merged] == [
        (0, 1),
        (1, 12),
        (2, 20),
    ]
    assert [r.wall for r in merged] == [1000.0, 1001.0, 1002.0]
    other = [Interval(0, 0.0, 2.0, interval=2.0)]
    with pytest.raises(SeriesError, match="different intervals"):
        merge_series([first, other])


def test_late_count_counts_samples_above_the_limit() -> None:
    h = LatencyHistogram()
    for value in (0.1, 0.99, 1.2, 5.0, 30.0):
        h.record(value)
    assert late_count(h) == 3
    assert late_count(h, after=10.0) == 1


def test_coarsen_adds_up_runs_of_records_exactly() -> None:
    rng = random.Random(5)
    metrics = RunMetrics()
    recorder = IntervalRecorder(metrics, interval=1.0)
    records = []
    for tick in range(1, 11):
        feed(metrics, rng, 10)
        records.append(recorder.sample(float(tick), {"registered": tick}))
    coarse = coarsen(records, 4)  # 10 records in runs of 3: 3 + 3 + 3 + 1
    assert [(r.index, r.start, r.span, r.interval) for r in coarse] == [
        (0, 0.0, 3.0, 3.0),
        (1, 3.0, 3.0, 3.0),
        (2, 6.0, 3.0, 3.0),
        (3, 9.0, 1.0, 3.0),
    ]
    assert [r.devices for r in coarse] == [{"registered": n} for n in (3, 6, 9, 10)]
    whole, parts = totals(records), totals(coarse)
    for op in Operation:
        assert parts.operations[op].durations.buckets() == whole.operations[op].durations.buckets()
        assert parts.operations[op].count == whole.operations[op].count
    assert coarsen(records, 10) == records
