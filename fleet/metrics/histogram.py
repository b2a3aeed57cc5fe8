"""An exact, mergeable latency distribution with bounded relative error (HDR-style).

Samples are durations in seconds, kept as whole nanoseconds. Values below
256 ns each have their own bucket; above, every power of two is split into
128 equal buckets (log-linear), so a bucket is at most 1/128 of its lowest
value wide. A percentile is the middle of the bucket holding the
nearest-rank sample, clamped into [min, max]; it is off from the exact
nearest-rank sample by at most :data:`RELATIVE_ERROR` of it plus half a
nanosecond (p0 and p100 are the exact min and max).

Everything is integers (bucket counts, count, sum of nanoseconds) plus the
exact min and max, so ``merge`` is exact and associative: the histograms of
two shards merged equal, field for field, the histogram of all their samples.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Final

SUB_BITS: Final = 7
_SUB: Final = 1 << SUB_BITS  # 128 buckets per power of two
_LINEAR: Final = 2 * _SUB  # values below 256 ns are exact
RELATIVE_ERROR: Final = 1 / (2 * _SUB)
"""Bound of a percentile's relative error (0.39 %), besides half a nanosecond of rounding."""
NS: Final = 1_000_000_000


def bucket_of(ns: int) -> int:
    """The bucket index of a sample of ``ns`` nanoseconds (>= 0)."""
    if ns < _LINEAR:
        return ns
    shift = ns.bit_length() - SUB_BITS - 1
    return _LINEAR + (shift - 1) * _SUB + ((ns >> shift) - _SUB)


def bucket_bounds(index: int) -> tuple[int, int]:
    """``[low, high)`` in nanoseconds of a bucket."""
    if index < _LINEAR:
        return index, index + 1
    shift, sub = divmod(index - _LINEAR, _SUB)
    shift += 1
    low = (_SUB + sub) << shift
    return low, low + (1 << shift)


class LatencyHistogram:
    """Count, min, max, avg and percentiles of durations; exactly mergeable."""

    __slots__ = ("_buckets", "_count", "_max", "_min", "_sum_ns")

    def __init__(self) -> None:
        self._buckets: dict[int, int] = {}
        self._count = 0
        self._sum_ns = 0
        self._min: int | None = None
        self._max: int | None = None

    def record(self, seconds: float) -> None:
        """Add one sample (seconds, >= 0)."""
        if not seconds >= 0 or math.isinf(seconds):
            raise ValueError(f"a duration must be a finite number >= 0, got {seconds!r}")
        self.record_ns(round(seconds * NS))

    def record_ns(self, ns: int, times: int = 1) -> None:
        """Add ``times`` samples of ``ns`` nanoseconds."""
        if ns < 0 or times < 0:
            raise ValueError("durations and counts must not be negative")
        if times == 0:
            return
        index = bucket_of(ns)
        self._buckets[index] = self._buckets.get(index, 0) + times
        self._count += times
        self._sum_ns += ns * times
        if self._min is None or ns < self._min:
            self._min = ns
        if self._max is None or ns > self._max:
            self._max = ns

    def merge(self, other: LatencyHistogram) -> None:
        """Add every sample of ``other`` (exactly)."""
        for index, n in other._buckets.items():
            self._buckets[index] = self._buckets.get(index, 0) + n
        self._count += other._count
        self._sum_ns += other._sum_ns
        if other._min is not None and (self._min is None or other._min < self._min):
            self._min = other._min
        if other._max is not None and (self._max is None or other._max > self._max):
            self._max = other._max

    @classmethod
    def merged(cls, histograms: Iterable[LatencyHistogram]) -> LatencyHistogram:
        result = cls()
        for histogram in histograms:
            result.merge(histogram)
        return result

    def copy(self) -> LatencyHistogram:
        return LatencyHistogram.merged([self])

    def since(self, earlier: LatencyHistogram) -> LatencyHistogram:
        """The samples added after ``earlier`` (an older copy of this histogram).

        Buckets, count and sum are exact; min and max are the bounds of the lowest
        and highest bucket that grew, clamped into this histogram's own min and max.
        """
        histogram = LatencyHistogram()
        for index, n in self._buckets.items():
            grown = n - earlier._buckets.get(index, 0)
            if grown < 0:
                raise ValueError("since() needs an older copy of the same histogram")
            if grown:
                histogram._buckets[index] = grown
        histogram._count = self._count - earlier._count
        histogram._sum_ns = self._sum_ns - earlier._sum_ns
        if histogram._count != sum(histogram._buckets.values()) or histogram._sum_ns < 0:
            raise ValueError("since() needs an older copy of the same histogram")
        if histogram._buckets and self._min is not None and self._max is not None:
            low = bucket_bounds(min(histogram._buckets))[0]
            high = bucket_bounds(max(histogram._buckets))[1] - 1
            histogram._min = min(max(low, self._min), self._max)
            histogram._max = max(min(high, self._max), histogram._min)
        return histogram

    @property
    def count(self) -> int:
        return self._count

    @property
    def sum_ns(self) -> int:
        return self._sum_ns

    @property
    def min(self) -> float | None:
        return None if self._min is None else self._min / NS

    @property
    def max(self) -> float | None:
        return None if self._max is None else self._max / NS

    @property
    def avg(self) -> float | None:
        return None if not self._count else self._sum_ns / self._count / NS

    @property
    def rate(self) -> float | None:
        """Unused for durations (part of the threshold metrics protocol)."""
        return None

    def percentile(self, p: float) -> float | None:
        """The nearest-rank ``p``-th percentile (0..100) in seconds; ``None`` without samples."""
        if not 0 <= p <= 100:
            raise ValueError(f"a percentile is between 0 and 100, got {p!r}")
        if not self._count or self._min is None or self._max is None:
            return None
        rank = max(1, math.ceil(Fraction(repr(float(p))) * self._count / 100))
        if rank == 1:
            return self._min / NS
        if rank >= self._count:
            return self._max / NS
        seen = 0
        for index in sorted(self._buckets):
            seen += self._buckets[index]
            if seen >= rank:
                low, high = bucket_bounds(index)
                middle = (low + high - 1) / 2
                return min(max(middle, self._min), self._max) / NS
        raise AssertionError("bucket counts do not add up")  # pragma: no cover

    def buckets(self) -> list[tuple[int, int]]:
        """``(bucket index, count)`` pairs, by index (the exact state, with min/max/sum)."""
        return sorted(self._buckets.items())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LatencyHistogram):
            return NotImplemented
        return (
            self._buckets == other._buckets
            and self._count == other._count
            and self._sum_ns == other._sum_ns
            and self._min == other._min
            and self._max == other._max
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"LatencyHistogram(count={self._count}, min={self.min}, max={self.max})"

    # -- JSON --------------------------------------------------------------------------------------

    def to_json(self) -> dict[str, object]:
        """The exact state plus readable aggregates (seconds); see :mod:`fleet.metrics.summary`."""
        return {
            "count": self._count,
            "min": self.min,
            "max": self.max,
            "avg": self.avg,
            "p50": self.percentile(50),
            "p90": self.percentile(90),
            "p95": self.percentile(95),
            "p99": self.percentile(99),
            "min_ns": self._min,
            "max_ns": self._max,
            "sum_ns": self._sum_ns,
            "sub_bucket_bits": SUB_BITS,
            "buckets": [[index, n] for index, n in self.buckets()],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> LatencyHistogram:
        """Rebuild exactly from :meth:`to_json` (the readable aggregates are ignored)."""
        if data.get("sub_bucket_bits") != SUB_BITS:
            raise ValueError(f"histogram with sub_bucket_bits {data.get('sub_bucket_bits')!r}")
        histogram = cls()
        buckets = data.get("buckets")
        if not isinstance(buckets, list):
            raise ValueError("histogram buckets must be a list of [index, count]")
        for pair in buckets:
            if (
                not isinstance(pair, list | tuple)
                or len(pair) != 2
                or not all(isinstance(x, int) and not isinstance(x, bool) for x in pair)
                or pair[0] < 0
                or pair[1] <= 0
            ):
                raise ValueError(f"bad histogram bucket {pair!r}")
            histogram._buckets[pair[0]] = histogram._buckets.get(pair[0], 0) + pair[1]
        histogram._count = _int(data, "count")
        histogram._sum_ns = _int(data, "sum_ns")
        if histogram._count != sum(histogram._buckets.values()):
            raise ValueError("histogram count does not match its buckets")
        if histogram._count:
            histogram._min = _int(data, "min_ns")
            histogram._max = _int(data, "max_ns")
        return histogram


def _int(data: Mapping[str, object], key: str) -> int:
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"histogram {key} must be an integer >= 0, got {value!r}")
    return value
