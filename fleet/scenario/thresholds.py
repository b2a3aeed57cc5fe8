"""Pass/fail criteria in k6 style on the run's named metrics.

A scenario writes, per metric, a list of expressions::

    thresholds:
      register_duration: ["p(95)<2s", "max<10s"]
      request_failed: ["rate<0.01"]
      notifications_sent: ["count>100"]

An expression is ``AGGREGATION OPERATOR VALUE``. Aggregations: ``p(N)``
(percentile, 0 <= N <= 100), ``avg``, ``min``, ``max``, ``med`` and ``count``
on *trend* metrics (durations, in seconds); ``rate`` (the fraction of
attempts that failed, 0..1; ``1%`` is allowed) and ``count`` (how many
failed) on *rate* metrics; ``count`` and ``rate`` (per second over the run) on
*counter* metrics (``firmware_completed`` is a rate metric of successes: the share
of the devices with Object 5 whose update succeeded). Operators: ``<``, ``<=``,
``>``, ``>=``, ``==``, ``!=``.
Time values need a unit (``500ms``, ``2s``, ``1m``): a bare ``p(95)<200``
would mean milliseconds to a k6 user and seconds to everyone else, so it is
refused.

:data:`METRICS` is the one list of metric names a threshold may use; the
metrics package produces a :class:`MetricStats` for each of them and
:func:`evaluate` decides. A threshold on a metric with no data (a trend
metric without a sample, a rate metric without an attempt, a counter's rate in
a run of no length) fails: a green CI run that measured nothing is a false
green. A threshold written ``{threshold: "p(95)<2s", allow_empty: true}``
gives :attr:`ThresholdStatus.NO_DATA` instead, which does not fail the run.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from types import MappingProxyType
from typing import Final, Protocol

from fleet.scenario.durations import UNITS


class MetricKind(Enum):
    """What a metric measures, which decides the aggregations it offers."""

    TREND = "trend"
    """Samples of a duration in seconds: p(N), avg, min, max, med, count."""
    RATE = "rate"
    """Attempts that failed or not: rate (failed / attempts), count (failed)."""
    COUNTER = "counter"
    """Events counted: count, rate (per second over the run)."""


@dataclass(frozen=True, slots=True)
class MetricInfo:
    name: str
    kind: MetricKind
    description: str


_T, _R, _C = MetricKind.TREND, MetricKind.RATE, MetricKind.COUNTER

SENT: Final = {
    "register": "Register",
    "update": "Registration Update",
    "deregister": "De-register",
    "send": "Send (LwM2M 1.1)",
    "handshake": "DTLS handshake",
    "bootstrap": "Bootstrap (Bootstrap-Request until Finish)",
}
"""Requests the devices send, by operation name."""
SERVED: Final = {
    "read": "Read (or Read-Composite)",
    "write": "Write (or Write-Composite)",
    "execute": "Execute",
    "observe": "Observe",
    "discover": "Discover",
    "create": "Create",
    "delete": "Delete",
    "write_attributes": "Write-Attributes",
}
"""Requests the devices serve, by operation name."""


def _all_metrics() -> Mapping[str, MetricInfo]:
    infos: list[MetricInfo] = []
    for name, title in SENT.items():
        infos.append(
            MetricInfo(f"{name}_duration", _T, f"{title} sent until answered (retries included).")
        )
        infos.append(
            MetricInfo(f"{name}_failed", _R, f"{title} requests that failed (error code or none).")
        )
    for name, title in SERVED.items():
        infos.append(MetricInfo(f"{name}_duration", _T, f"A {title} received until answered."))
        infos.append(
            MetricInfo(f"{name}_failed", _R, f"{title} requests answered with 4.xx or 5.xx.")
        )
    infos += [
        MetricInfo(
            "request_duration", _T, "Any server request received until the device answered it."
        ),
        MetricInfo("request_failed", _R, "Server requests the devices answered with 4.xx/5.xx."),
        MetricInfo(
            "notification_delay",
            _T,
            "How late a notification left compared with when it was due (a value change "
            "past pmin, or the pmax deadline).",
        ),
        MetricInfo(
            "notification_failed", _R, "Confirmable notifications the server never acknowledged."
        ),
        MetricInfo(
            "firmware_download_duration",
            _T,
            "A firmware download: Package URI (or pushed package) received until Downloaded "
            "or failed.",
        ),
        MetricInfo(
            "firmware_download_failed",
            _R,
            "Firmware downloads that ended with an Update Result other than Downloaded (those "
            "a firmware fault caused are counted apart).",
        ),
        MetricInfo("firmware_update_duration", _T, "Execute Update until the update's result."),
        MetricInfo("firmware_update_failed", _R, "Firmware updates that did not succeed."),
        MetricInfo(
            "firmware_completed",
            _R,
            "A firmware campaign's completion: the share of the devices with Object 5 that "
            "updated successfully (Update Result 1), each device counted once; e.g. "
            "'rate>=95%'; count: how many did.",
        ),
        MetricInfo(
            "software_download_duration",
            _T,
            "An Object 9 download: Package URI (or pushed package) of an instance received "
            "until Delivered or failed.",
        ),
        MetricInfo(
            "software_download_failed",
            _R,
            "Object 9 downloads that ended with an Update Result other than 3 (downloaded and "
            "verified; those a software fault caused are counted apart).",
        ),
        MetricInfo(
            "software_install_duration", _T, "Execute Install (/9/x/4) until Installed or 58."
        ),
        MetricInfo("software_install_failed", _R, "Object 9 installs that ended with 58."),
        MetricInfo(
            "software_completed",
            _R,
            "An Object 9 campaign's completion: the share of the devices with Object 9 that "
            "installed a package (Update Result 2), each device counted once.",
        ),
        MetricInfo("notifications_sent", _C, "Notifications the fleet sent."),
        MetricInfo("retransmissions", _C, "Confirmable messages the fleet had to send again."),
        MetricInfo(
            "late_operations",
            _C,
            "Operations the fleet could not start on time because the process was saturated "
            "(counted apart so that a slow server is not confused with an overloaded generator).",
        ),
    ]
    return MappingProxyType({info.name: info for info in infos})


METRICS: Final[Mapping[str, MetricInfo]] = _all_metrics()
"""Every metric a threshold may name, with its kind and meaning."""

AGGREGATIONS: Final[Mapping[MetricKind, tuple[str, ...]]] = MappingProxyType(
    {
        MetricKind.TREND: ("p(N)", "avg", "min", "max", "med", "count"),
        MetricKind.RATE: ("rate", "count"),
        MetricKind.COUNTER: ("count", "rate"),
    }
)
_TIMED = frozenset({"p", "avg", "min", "max", "med"})

OPERATORS: Final[Mapping[str, Callable[[float, float], bool]]] = MappingProxyType(
    {
        "<": operator.lt,
        "<=": operator.le,
        ">": operator.gt,
        ">=": operator.ge,
        "==": operator.eq,
        "!=": operator.ne,
    }
)

_EXPRESSION: Final = re.compile(
    r"""^\s*(?:p\(\s*(?P<p>[^)]*?)\s*\)|(?P<name>[A-Za-z_]+))
        \s*(?P<op><=|>=|==|!=|<|>|=)
        \s*(?P<number>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)
        \s*(?P<unit>[A-Za-z%µ]*)\s*$""",
    re.VERBOSE,
)
PATTERN: Final = (
    r"^\s*(p\(\s*\d+(\.\d+)?\s*\)|avg|min|max|med|count|rate)\s*(<=|>=|==|!=|<|>)\s*"
    r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*(ms|s|m|h|d|%)?\s*$"
)
"""The shape of an expression, as a regular expression (used in the JSON Schema)."""


class ThresholdError(ValueError):
    """An expression that cannot be a threshold; the message says why."""


class MetricStats(Protocol):
    """What the metrics package knows about one metric at the end of a run.

    Trend metrics: ``percentile``, ``avg``, ``min``, ``max`` in seconds, ``count``
    samples, ``rate`` unused. Rate metrics: ``count`` failed attempts and
    ``rate`` = failed / attempts. Counter metrics: ``count`` events and ``rate``
    events per second of the run. A value that does not exist (no sample yet)
    is ``None``.
    """

    def percentile(self, p: float) -> float | None: ...

    @property
    def avg(self) -> float | None: ...

    @property
    def min(self) -> float | None: ...

    @property
    def max(self) -> float | None: ...

    @property
    def count(self) -> int: ...

    @property
    def rate(self) -> float | None: ...


@dataclass(frozen=True, slots=True)
class Threshold:
    """One parsed expression on one metric. ``value`` is in seconds for time aggregations."""

    metric: str
    expression: str
    aggregation: str
    """``p``, ``avg``, ``min``, ``max``, ``med``, ``count`` or ``rate``."""
    operator: str
    value: float
    percentile: float | None = None
    allow_empty: bool = False
    """No data passes (``no data``) instead of failing."""

    @property
    def label(self) -> str:
        """The aggregation as written: ``p(95)``, ``avg``..."""
        return f"p({self.percentile:g})" if self.aggregation == "p" else self.aggregation

    def __str__(self) -> str:
        return f"{self.metric}: {self.expression}"


class ThresholdStatus(Enum):
    PASSED = "passed"
    FAILED = "failed"
    NO_DATA = "no data"
    """No data, and the threshold allows that (``allow_empty``); no data otherwise fails."""


@dataclass(frozen=True, slots=True)
class ThresholdResult:
    threshold: Threshold
    observed: float | None
    status: ThresholdStatus

    @property
    def passed(self) -> bool:
        """True unless the threshold failed (allowed no data does not fail a run)."""
        return self.status is not ThresholdStatus.FAILED


def _unit_value(number: float, unit: str, threshold: str, timed: bool, kind: MetricKind) -> float:
    if timed:
        if not unit:
            raise ThresholdError(
                f"{threshold!r}: give the time with a unit (e.g. {number:g}ms or {number:g}s)"
            )
        if unit not in UNITS:
            raise ThresholdError(f"{threshold!r}: unknown time unit {unit!r}; use ms, s, m, h or d")
        return number * UNITS[unit]
    if unit == "%":
        if kind is not MetricKind.RATE:
            raise ThresholdError(f"{threshold!r}: a percentage only fits the rate of a rate metric")
        return number / 100
    if unit:
        raise ThresholdError(f"{threshold!r}: this value takes no unit, got {unit!r}")
    return number


def parse_threshold(metric: str, expression: str, *, allow_empty: bool = False) -> Threshold:
    """Parse one expression on ``metric``; :class:`ThresholdError` says what is wrong."""
    info = METRICS.get(metric)
    if info is None:
        raise ThresholdError(f"unknown metric {metric!r}")
    if not isinstance(expression, str):
        raise ThresholdError(f"a threshold is a text like 'p(95)<2s', got {expression!r}")
    match = _EXPRESSION.match(expression)
    if match is None:
        raise ThresholdError(
            f"{expression!r} is not a threshold: write AGGREGATION OPERATOR VALUE, "
            "e.g. 'p(95)<2s', 'avg<=500ms', 'rate<0.01', 'count>100'"
        )
    op = match["op"]
    if op == "=":
        raise ThresholdError(f"{expression!r}: compare with ==, not =")
    percentile: float | None = None
    if match["p"] is not None:
        aggregation = "p"
        try:
            percentile = float(match["p"])
        except ValueError:
            raise ThresholdError(
                f"{expression!r}: p(N) takes a number, got {match['p']!r}"
            ) from None
        if not 0 <= percentile <= 100:
            raise ThresholdError(f"{expression!r}: a percentile is between 0 and 100")
    else:
        aggregation = match["name"]
    allowed = AGGREGATIONS[info.kind]
    if (aggregation == "p" and "p(N)" not in allowed) or (
        aggregation != "p" and aggregation not in allowed
    ):
        raise ThresholdError(
            f"{expression!r}: {metric} is a {info.kind.value} metric; "
            f"its aggregations are {', '.join(allowed)}"
        )
    number = float(match["number"])
    timed = info.kind is MetricKind.TREND and aggregation in _TIMED
    value = _unit_value(number, match["unit"], expression, timed, info.kind)
    if aggregation == "count" and (value < 0 or not value.is_integer()):
        raise ThresholdError(f"{expression!r}: a count is a whole number >= 0")
    if timed and value < 0:
        raise ThresholdError(f"{expression!r}: a duration cannot be negative")
    if info.kind is MetricKind.RATE and aggregation == "rate" and not 0 <= value <= 1:
        what = "a rate" if metric.endswith("_completed") else "a failure rate"
        raise ThresholdError(f"{expression!r}: {what} is a fraction between 0 and 1")
    return Threshold(metric, expression.strip(), aggregation, op, value, percentile, allow_empty)


def has_data(metric: str, stats: MetricStats) -> bool:
    """Whether the metric measured anything: a sample (trend), an attempt (rate), a
    run of some length (counter; a count of zero events is data)."""
    kind = METRICS[metric].kind
    if kind is MetricKind.TREND:
        return stats.count > 0
    if kind is MetricKind.RATE:
        return stats.rate is not None
    return True


def observed_value(threshold: Threshold, stats: MetricStats) -> float | None:
    """The aggregate the threshold compares (``None`` when there is no data)."""
    if not has_data(threshold.metric, stats):
        return None
    aggregation = threshold.aggregation
    if aggregation == "p":
        assert threshold.percentile is not None
        return stats.percentile(threshold.percentile)
    if aggregation == "med":
        return stats.percentile(50)
    if aggregation == "count":
        return float(stats.count)
    value: float | None = getattr(stats, aggregation)
    return value


def evaluate(threshold: Threshold, stats: MetricStats) -> ThresholdResult:
    """Compare one metric's aggregate with the threshold (pure); no data fails unless the
    threshold allows it."""
    observed = observed_value(threshold, stats)
    if observed is None or math.isnan(observed):
        empty = ThresholdStatus.NO_DATA if threshold.allow_empty else ThresholdStatus.FAILED
        return ThresholdResult(threshold, None, empty)
    ok = OPERATORS[threshold.operator](observed, threshold.value)
    return ThresholdResult(
        threshold, observed, ThresholdStatus.PASSED if ok else ThresholdStatus.FAILED
    )
