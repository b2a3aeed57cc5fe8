"""The latency histogram: bounded relative error, exact merges, JSON round trip."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.metrics.histogram import (
    NS,
    RELATIVE_ERROR,
    LatencyHistogram,
    bucket_bounds,
    bucket_of,
)

DURATION = (
    st.floats(0, 200, allow_nan=False)
    | st.floats(0, 1e-6)
    | st.integers(0, 300).map(lambda n: n / NS)
)
SAMPLES = st.lists(DURATION, min_size=1, max_size=300)
PERCENTILE = st.floats(0, 100) | st.sampled_from([0, 50, 90, 95, 99, 99.9, 100])


def of(samples: list[float]) -> LatencyHistogram:
    histogram = LatencyHistogram()
    for sample in samples:
        histogram.record(sample)
    return histogram


def nearest_rank(samples: list[float], p: float) -> float:
    ordered = sorted(round(s * NS) for s in samples)
    rank = max(1, math.ceil(Fraction(repr(float(p))) * len(ordered) / 100))  # as written
    return ordered[min(rank, len(ordered)) - 1] / NS


@given(st.integers(0, 2**62))
def test_every_nanosecond_value_falls_in_its_bucket(ns: int) -> None:
    low, high = bucket_bounds(bucket_of(ns))
    assert low <= ns < high
    assert high - low <= max(1, low * 2 * RELATIVE_ERROR)


def test_buckets_are_contiguous() -> None:
    for index in range(2000):
        assert bucket_bounds(index)[1] == bucket_bounds(index + 1)[0]


@settings(max_examples=300, deadline=None)
@given(SAMPLES, PERCENTILE)
def test_percentiles_are_within_the_relative_error_bound(samples: list[float], p: float) -> None:
    histogram = of(samples)
    exact = nearest_rank(samples, p)
    got = histogram.percentile(p)
    assert got is not None
    assert abs(got - exact) <= exact * RELATIVE_ERROR + 1e-9
    assert histogram.min == min(round(s * NS) for s in samples) / NS
    assert histogram.max == max(round(s * NS) for s in samples) / NS
    assert histogram.percentile(0) == histogram.min
    assert histogram.percentile(100) == histogram.max


@settings(max_examples=200, deadline=None)
@given(SAMPLES, st.data())
def test_merging_shards_equals_one_histogram_of_all_samples(
    samples: list[float], data: st.DataObject
) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(samples)), max_size=4)))
    parts = [samples[a:b] for a, b in zip([0, *cuts], [*cuts, len(samples)], strict=True)]
    merged = LatencyHistogram.merged(of(part) for part in parts)
    whole = of(samples)
    assert merged == whole
    for p in (0, 1, 50, 90, 95, 99, 99.99, 100):
        assert merged.percentile(p) == whole.percentile(p)
    assert (merged.count, merged.avg, merged.min, merged.max) == (
        whole.count,
        whole.avg,
        whole.min,
        whole.max,
    )
    # merging in another order gives the same
    assert LatencyHistogram.merged(of(part) for part in reversed(parts)) == whole


@given(SAMPLES)
def test_json_round_trip_is_exact(samples: list[float]) -> None:
    histogram = of(samples)
    again = LatencyHistogram.from_json(histogram.to_json())
    assert again == histogram and again.percentile(99) == histogram.percentile(99)


def test_average_is_exact_in_nanoseconds() -> None:
    histogram = of([0.001, 0.002, 0.006])
    assert histogram.avg == pytest.approx(0.003, abs=1e-15)
    assert histogram.sum_ns == 9_000_000 and histogram.count == 3


def test_an_empty_histogram_has_no_aggregates() -> None:
    histogram = LatencyHistogram()
    assert histogram.count == 0
    assert (histogram.min, histogram.max, histogram.avg, histogram.percentile(95)) == (None,) * 4
    assert LatencyHistogram.from_json(histogram.to_json()) == histogram


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_bad_samples_are_refused(bad: float) -> None:
    with pytest.raises(ValueError):
        LatencyHistogram().record(bad)


@pytest.mark.parametrize("p", [-1, 100.5])
def test_bad_percentiles_are_refused(p: float) -> None:
    with pytest.raises(ValueError):
        of([1.0]).percentile(p)


@pytest.mark.parametrize(
    "change",
    [
        {"sub_bucket_bits": 6},
        {"buckets": [[3, 0]]},
        {"buckets": [[-1, 1]]},
        {"buckets": "nope"},
        {"count": 5},
        {"sum_ns": -1},
        {"min_ns": None},
    ],
)
def test_corrupt_json_is_refused(change: dict[str, object]) -> None:
    data = {**of([0.5, 0.25]).to_json(), **change}
    with pytest.raises(ValueError):
        LatencyHistogram.from_json(data)
