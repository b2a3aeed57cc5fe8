"""k6-style thresholds: parsing every form, refusing the wrong ones, evaluating against stats."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from fleet.scenario.thresholds import (
    METRICS,
    MetricKind,
    ThresholdError,
    ThresholdStatus,
    evaluate,
    parse_threshold,
)


@dataclass
class Stats:
    """A MetricStats made from raw samples (nearest-rank percentiles)."""

    samples: list[float] = field(default_factory=list)
    count_value: int | None = None
    rate_value: float | None = None

    def percentile(self, p: float) -> float | None:
        if not self.samples:
            return None
        ordered = sorted(self.samples)
        rank = max(1, -(-len(ordered) * p // 100))
        return ordered[int(rank) - 1]

    @property
    def avg(self) -> float | None:
        return sum(self.samples) / len(self.samples) if self.samples else None

    @property
    def min(self) -> float | None:
        return min(self.samples) if self.samples else None

    @property
    def max(self) -> float | None:
        return max(self.samples) if self.samples else None

    @property
    def count(self) -> int:
        return self.count_value if self.count_value is not None else len(self.samples)

    @property
    def rate(self) -> float | None:
        return self.rate_value


@pytest.mark.parametrize(
    ("metric", "text", "aggregation", "percentile", "op", "value"),
    [
        ("register_duration", "p(95)<2s", "p", 95.0, "<", 2.0),
        ("register_duration", "p(99)<=500ms", "p", 99.0, "<=", 0.5),
        ("register_duration", " p( 99.9 ) < 1.5s ", "p", 99.9, "<", 1.5),
        ("update_duration", "avg<1s", "avg", None, "<", 1.0),
        ("update_duration", "max<3s", "max", None, "<", 3.0),
        ("update_duration", "min>=10ms", "min", None, ">=", 0.01),
        ("update_duration", "med<2m", "med", None, "<", 120.0),
        ("update_duration", "count>100", "count", None, ">", 100.0),
        ("request_failed", "rate<0.01", "rate", None, "<", 0.01),
        ("request_failed", "rate<=1%", "rate", None, "<=", 0.01),
        ("request_failed", "count==0", "count", None, "==", 0.0),
        ("notifications_sent", "count!=0", "count", None, "!=", 0.0),
        ("retransmissions", "rate<2.5", "rate", None, "<", 2.5),
        ("notification_delay", "p(50)<1e3ms", "p", 50.0, "<", 1.0),
    ],
)
def test_parse(
    metric: str, text: str, aggregation: str, percentile: float | None, op: str, value: float
) -> None:
    threshold = parse_threshold(metric, text)
    assert (threshold.aggregation, threshold.percentile, threshold.operator) == (
        aggregation,
        percentile,
        op,
    )
    assert threshold.value == pytest.approx(value)
    assert threshold.expression == text.strip()
    assert str(threshold) == f"{metric}: {text.strip()}"


@pytest.mark.parametrize(
    ("metric", "text", "message"),
    [
        ("nope", "avg<1s", "unknown metric 'nope'"),
        ("register_duration", "p95<2s", "is not a threshold"),
        ("register_duration", "p(95)<2", "give the time with a unit (e.g. 2ms or 2s)"),
        ("register_duration", "p(95)<2y", "unknown time unit 'y'"),
        ("register_duration", "p(101)<2s", "a percentile is between 0 and 100"),
        ("register_duration", "p(x)<2s", "p(N) takes a number, got 'x'"),
        (
            "register_duration",
            "rate<0.1",
            "register_duration is a trend metric; its "
            "aggregations are p(N), avg, min, max, med, count",
        ),
        ("register_duration", "avg=1s", "compare with ==, not ="),
        ("register_duration", "avg<-1s", "a duration cannot be negative"),
        ("register_duration", "count>1.5", "a count is a whole number >= 0"),
        ("register_duration", "count>5s", "this value takes no unit, got 's'"),
        (
            "register_failed",
            "p(95)<1s",
            "register_failed is a rate metric; its aggregations are rate, count",
        ),
        ("register_failed", "rate<1.5", "a failure rate is a fraction between 0 and 1"),
        ("notifications_sent", "rate<5%", "a percentage only fits the rate of a rate metric"),
        ("notifications_sent", "avg<1", "notifications_sent is a counter metric"),
        ("register_duration", "", "is not a threshold"),
    ],
)
def test_parse_errors(metric: str, text: str, message: str) -> None:
    with pytest.raises(ThresholdError, match=None) as caught:
        parse_threshold(metric, text)
    assert message in str(caught.value)


SAMPLES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 3.0]


@pytest.mark.parametrize(
    ("metric", "text", "stats", "observed", "status"),
    [
        ("register_duration", "p(95)<2s", Stats(SAMPLES), 3.0, ThresholdStatus.FAILED),
        ("register_duration", "p(90)<2s", Stats(SAMPLES), 0.9, ThresholdStatus.PASSED),
        ("register_duration", "p(90)<=900ms", Stats(SAMPLES), 0.9, ThresholdStatus.PASSED),
        ("register_duration", "p(90)<900ms", Stats(SAMPLES), 0.9, ThresholdStatus.FAILED),
        ("register_duration", "avg<1s", Stats(SAMPLES), 0.75, ThresholdStatus.PASSED),
        ("register_duration", "avg>1s", Stats(SAMPLES), 0.75, ThresholdStatus.FAILED),
        ("register_duration", "min>=100ms", Stats(SAMPLES), 0.1, ThresholdStatus.PASSED),
        ("register_duration", "max<3s", Stats(SAMPLES), 3.0, ThresholdStatus.FAILED),
        ("register_duration", "med<=500ms", Stats(SAMPLES), 0.5, ThresholdStatus.PASSED),
        ("register_duration", "count>=10", Stats(SAMPLES), 10.0, ThresholdStatus.PASSED),
        ("register_duration", "count>10", Stats(SAMPLES), 10.0, ThresholdStatus.FAILED),
        ("register_duration", "p(95)<2s", Stats(), None, ThresholdStatus.FAILED),
        ("register_duration", "count>0", Stats(), None, ThresholdStatus.FAILED),
        ("register_duration", "count<5", Stats(), None, ThresholdStatus.FAILED),
        (
            "request_failed",
            "rate<0.01",
            Stats(count_value=1, rate_value=0.005),
            0.005,
            ThresholdStatus.PASSED,
        ),
        (
            "request_failed",
            "rate<1%",
            Stats(count_value=2, rate_value=0.02),
            0.02,
            ThresholdStatus.FAILED,
        ),
        ("request_failed", "rate<0.01", Stats(count_value=0), None, ThresholdStatus.FAILED),
        ("request_failed", "count==0", Stats(count_value=0), None, ThresholdStatus.FAILED),
        (
            "request_failed",
            "count==0",
            Stats(count_value=0, rate_value=0.0),
            0.0,
            ThresholdStatus.PASSED,
        ),
        ("notifications_sent", "count!=0", Stats(count_value=0), 0.0, ThresholdStatus.FAILED),
        (
            "notifications_sent",
            "rate>=2",
            Stats(count_value=9, rate_value=2.0),
            2.0,
            ThresholdStatus.PASSED,
        ),
    ],
)
def test_evaluate(
    metric: str, text: str, stats: Stats, observed: float | None, status: ThresholdStatus
) -> None:
    result = evaluate(parse_threshold(metric, text), stats)
    assert result.status is status
    assert result.observed == (pytest.approx(observed) if observed is not None else None)
    assert result.passed is (status is not ThresholdStatus.FAILED)


def test_every_metric_is_documented_and_offers_its_kind_s_aggregations() -> None:
    for name, info in METRICS.items():
        assert info.name == name
        assert info.description.endswith(".")
        sample = {
            MetricKind.TREND: "p(95)<1s",
            MetricKind.RATE: "rate<0.5",
            MetricKind.COUNTER: "count>=0",
        }[info.kind]
        assert parse_threshold(name, sample).metric == name
    named = {
        "register_duration",
        "update_duration",
        "deregister_duration",
        "request_duration",
        "notification_delay",
        "send_duration",
        "register_failed",
        "request_failed",
    }
    assert named <= set(METRICS)


def test_label() -> None:
    assert parse_threshold("register_duration", "p(99.5)<1s").label == "p(99.5)"
    assert parse_threshold("register_duration", "avg<1s").label == "avg"


def test_the_metric_names_are_the_ones_the_metrics_package_produces() -> None:
    views = pytest.importorskip("fleet.metrics.views")
    assert {name: info.kind.value for name, info in METRICS.items()} == dict(views.METRIC_KINDS)


@pytest.mark.parametrize(
    ("metric", "text", "stats"),
    [
        ("register_duration", "p(95)<2s", Stats()),
        ("register_duration", "count<5", Stats()),
        ("request_failed", "rate<0.01", Stats(count_value=0)),
        ("request_failed", "count==0", Stats(count_value=0)),
    ],
)
def test_no_data_passes_only_when_allowed(metric: str, text: str, stats: Stats) -> None:
    strict = evaluate(parse_threshold(metric, text), stats)
    assert strict.status is ThresholdStatus.FAILED and strict.observed is None
    assert not strict.passed
    lenient = evaluate(parse_threshold(metric, text, allow_empty=True), stats)
    assert lenient.status is ThresholdStatus.NO_DATA and lenient.passed


def test_allow_empty_does_not_excuse_a_failure() -> None:
    threshold = parse_threshold("register_duration", "p(95)<2s", allow_empty=True)
    result = evaluate(threshold, Stats(SAMPLES))
    assert result.status is ThresholdStatus.FAILED and result.observed == pytest.approx(3.0)


def test_a_counter_with_zero_events_is_data() -> None:
    result = evaluate(parse_threshold("notifications_sent", "count==0"), Stats(count_value=0))
    assert result.status is ThresholdStatus.PASSED
