"""Pure planning of a run: when each device arrives, when churn takes it away, which shard runs it.

Arrivals
    The phases define an arrival rate over time (a :class:`RatePhase` ramps
    linearly from ``arrival_rate`` to ``ramp_to``; a :class:`CountPhase` is the
    constant rate ``arrival_count / duration``; a :class:`PausePhase` is rate
    0). The k-th arrival (k = 1, 2, ...) happens when the integral of the rate
    since the start of the run reaches k, so fractions carry over from one
    phase to the next and a CountPhase always brings exactly its count. Counts
    are computed in exact rational arithmetic (numbers taken as the decimals
    they print as: a rate of 0.7 for 10 s brings 7 devices, not 6); only the
    times themselves are floats.

    The fleet size ``count`` caps the plan: arrivals stop once ``count``
    devices are in, and later phases bring nobody (``surplus`` says how many
    they would have brought). If the phases bring fewer than ``count``, the
    rest never arrive (``missing``) — nothing piles up at the end of the last
    phase. Arrivals at or after the run ``duration`` are dropped too (counted
    in ``missing``). Without phases every device arrives at time 0.

    Arrival order is device index order by default (``sim-000000`` first).
    ``order="spread"`` permutes them (:class:`~fleet.runner.spread.SpreadOrder`)
    so every contiguous shard range gets its share of each phase; the
    permutation depends on the device count only, not on the shard count.

Churn
    :func:`churn_schedule` gives each device, from its own seeded generator,
    the times it de-registers and comes back: each present device leaves at
    the rate ``deregister_rate / count`` (exponential gaps) and stays away
    ``away`` seconds, so the whole fleet loses about ``deregister_rate``
    devices per second while all are present, whatever the shard layout.

Shards
    :func:`shard_ranges` splits the indexes into contiguous, balanced ranges
    and :func:`shard_of` finds a device's shard. :func:`machine_slice` is the
    range one machine of ``--shard-count`` runs; :func:`split_range` cuts it
    among the machine's worker processes. Identities (endpoint names
    from :mod:`fleet.scenario.endpoints`, per-device random streams from
    :func:`fleet.device.generators.device_rng`) derive from the global index
    only, so they are unique and the same whatever the shard count.
"""

from __future__ import annotations

import math
import random
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Final

from fleet.errors import FleetError
from fleet.runner.spread import SpreadOrder
from fleet.scenario.phases import Churn, CountPhase, PausePhase, Phase, RatePhase

ORDERS: Final = ("index", "spread")


class PlanningError(FleetError, ValueError):
    """Phases, counts or shard numbers that cannot be planned."""


def _exact(number: float | int) -> Fraction:
    """The decimal the user wrote (``0.7`` is 7/10, not the nearest binary float)."""
    if isinstance(number, int):
        return Fraction(number)
    if not math.isfinite(number):
        raise PlanningError(f"not a finite number: {number!r}")
    return Fraction(repr(float(number)))


@dataclass(frozen=True, slots=True)
class Segment:
    """One phase on the run's time line, with the exact arrival integral before and within it.

    ``first``..``last`` are the arrival numbers (1-based) it brings (none when
    ``last < first``); the float fields are precomputed for :meth:`offset_of`.
    """

    index: int
    phase: Phase
    start: float
    before: Fraction
    amount: Fraction
    first: int
    last: int
    carry: float
    step: float
    rate0: float
    slope: float

    @classmethod
    def build(cls, index: int, phase: Phase, start: float, before: Fraction) -> Segment:
        amount = _amount(phase)
        whole = math.floor(before)
        duration = _exact(phase.duration)
        step = rate0 = slope = 0.0
        last = math.floor(before + amount)
        if last <= whole:
            pass  # brings nobody: no arrival to place
        elif isinstance(phase, CountPhase):
            step = float(duration / phase.arrival_count)
        elif isinstance(phase, RatePhase):
            r0 = _exact(phase.arrival_rate)
            r1 = _exact(phase.ramp_to) if phase.ramp_to is not None else r0
            if r0 == r1 and r0:
                step = float(1 / r0)
            elif duration:
                rate0, slope = float(r0), float((r1 - r0) / duration)
        return cls(
            index,
            phase,
            start,
            before,
            amount,
            whole + 1,
            last,
            float(before - whole),
            step,
            rate0,
            slope,
        )

    @property
    def end(self) -> float:
        return self.start + self.phase.duration

    def offset_of(self, k: int) -> float:
        """Seconds after the phase start of arrival number ``k`` (in this phase)."""
        need = (k - self.first + 1) - self.carry
        if self.phase.duration == 0:
            return 0.0
        if self.step:
            offset = need * self.step
        else:
            # rate0*x + slope*x^2/2 = need: the numerically stable root
            rate0 = self.rate0
            offset = 2 * need / (rate0 + math.sqrt(max(0.0, rate0 * rate0 + 2 * self.slope * need)))
        return min(max(offset, 0.0), self.phase.duration)


def _amount(phase: Phase) -> Fraction:
    if isinstance(phase, PausePhase):
        return Fraction(0)
    if isinstance(phase, CountPhase):
        if phase.arrival_count < 0:
            raise PlanningError(f"arrivalCount must not be negative, got {phase.arrival_count}")
        return Fraction(phase.arrival_count)
    r0 = _exact(phase.arrival_rate)
    r1 = _exact(phase.ramp_to) if phase.ramp_to is not None else r0
    if r0 < 0 or r1 < 0:
        raise PlanningError(f"arrival rates must not be negative, got {r0} -> {r1}")
    return _exact(phase.duration) * (r0 + r1) / 2


@dataclass(frozen=True, slots=True)
class ArrivalPlan:
    """When each device index arrives (see the module documentation for the rules)."""

    count: int
    arriving: int
    segments: tuple[Segment, ...]
    duration: float | None
    order: str
    surplus: int
    lasts: tuple[int, ...] = ()
    spread: SpreadOrder | None = None

    @property
    def missing(self) -> int:
        """Devices of the fleet that never arrive (phases too short, or after the run's end)."""
        return self.count - self.arriving

    @property
    def end(self) -> float:
        """When the last phase ends (0 without phases)."""
        return self.segments[-1].end if self.segments else 0.0

    def rank_of(self, index: int) -> int:
        """The arrival position (0-based) of a device index."""
        if not 0 <= index < self.count:
            raise PlanningError(f"device index {index} is outside 0..{self.count - 1}")
        return index if self.spread is None else self.spread.rank_of(index)

    def index_of(self, rank: int) -> int:
        """The device index of the arrival at position ``rank`` (0-based)."""
        return rank if self.spread is None else self.spread.index_of(rank)

    def time_of(self, index: int) -> float | None:
        """Arrival time of a device index (seconds from the run start), ``None``: never."""
        rank = self.rank_of(index)
        if rank >= self.arriving:
            return None
        return self._time_of_number(rank + 1)

    def _time_of_number(self, k: int) -> float:
        if not self.segments:
            return 0.0
        segment = self.segments[bisect_right(self.lasts, k - 1)]
        return segment.start + segment.offset_of(k)

    def phase_of(self, index: int) -> Segment | None:
        """The phase a device arrives in (``None``: never, or no phases)."""
        rank = self.rank_of(index)
        if rank >= self.arriving or not self.segments:
            return None
        return self.segments[bisect_right(self.lasts, rank)]

    def arrivals(self, indexes: range | None = None) -> Iterator[tuple[int, float]]:
        """``(index, time)`` of the devices of ``indexes`` (default all) that arrive, by time."""
        wanted = range(self.count) if indexes is None else indexes
        found = [(t, i) for i in wanted if (t := self.time_of(i)) is not None]
        found.sort()
        return ((i, t) for t, i in found)


def plan_arrivals(
    phases: Sequence[Phase],
    count: int,
    duration: float | None = None,
    *,
    order: str = "index",
) -> ArrivalPlan:
    """The arrival plan of ``count`` devices over ``phases`` in a run of ``duration`` seconds."""
    if count < 0:
        raise PlanningError(f"the device count must not be negative, got {count}")
    if order not in ORDERS:
        raise PlanningError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    if duration is not None and (not math.isfinite(duration) or duration < 0):
        raise PlanningError(f"the run duration must be a positive number, got {duration!r}")
    segments: list[Segment] = []
    start, total = 0.0, Fraction(0)
    for i, phase in enumerate(phases):
        if not math.isfinite(phase.duration) or phase.duration < 0:
            raise PlanningError(f"phase {i + 1}: duration must not be negative")
        segment = Segment.build(i, phase, start, total)
        segments.append(segment)
        start += phase.duration
        total += segment.amount
    brought = math.floor(total) if segments else count
    arriving = min(count, brought)
    plan = ArrivalPlan(
        count,
        arriving,
        tuple(segments),
        duration,
        order,
        max(0, brought - count),
        tuple(s.last for s in segments),
        SpreadOrder(count) if order == "spread" and count > 1 else None,
    )
    if duration is not None and arriving:
        # arrival times grow with k: find how many arrive strictly before the end
        low, high = 0, arriving
        while low < high:
            middle = (low + high + 1) // 2
            if plan._time_of_number(middle) < duration:
                low = middle
            else:
                high = middle - 1
        plan = replace(plan, arriving=low)
    return plan


# -- churn ----------------------------------------------------------------------------------------


def churn_schedule(
    churn: Churn, count: int, rng: random.Random, arrival: float, end: float
) -> Iterator[tuple[float, float]]:
    """``(leave, back)`` times of one device between its arrival and the run's ``end``.

    ``rng`` is the device's own churn stream (``device_rng(seed, index,
    "churn")``). The last absence may reach past ``end`` (the device is away at
    the end of the run).
    """
    if churn.deregister_rate < 0 or churn.away < 0:
        raise PlanningError("churn rates and away time must not be negative")
    if churn.deregister_rate == 0 or count <= 0:
        return
    per_device = churn.deregister_rate / count
    moment = arrival
    while True:
        moment += rng.expovariate(per_device)
        if moment >= end:
            return
        back = moment + churn.away
        yield moment, back
        if back >= end:
            return
        moment = back


# -- shards and identities ------------------------------------------------------------------------


def shard_ranges(count: int, shards: int) -> list[range]:
    """``shards`` contiguous ranges covering ``0..count-1``; sizes differ by at most one.

    The first ``count % shards`` ranges are one longer; with more shards than
    devices the last ranges are empty.
    """
    if shards < 1:
        raise PlanningError(f"the shard count must be at least 1, got {shards}")
    if count < 0:
        raise PlanningError(f"the device count must not be negative, got {count}")
    size, extra = divmod(count, shards)
    ranges: list[range] = []
    start = 0
    for shard in range(shards):
        stop = start + size + (1 if shard < extra else 0)
        ranges.append(range(start, stop))
        start = stop
    return ranges


def shard_of(index: int, count: int, shards: int) -> int:
    """The shard whose range holds device ``index`` (the inverse of :func:`shard_ranges`)."""
    if not 0 <= index < count:
        raise PlanningError(f"device index {index} is outside 0..{count - 1}")
    size, extra = divmod(count, shards)
    boundary = extra * (size + 1)
    if index < boundary:
        return index // (size + 1)
    return extra + (index - boundary) // size


def split_range(indexes: range, parts: int) -> list[range]:
    """``indexes`` (step 1) cut into ``parts`` contiguous, balanced ranges (some maybe empty)."""
    if indexes.step != 1:
        raise PlanningError(f"only contiguous index ranges can be split, got {indexes!r}")
    return [
        range(indexes.start + r.start, indexes.start + r.stop)
        for r in shard_ranges(len(indexes), parts)
    ]


def machine_slice(count: int, shard_index: int, shard_count: int) -> range:
    """The device indexes machine ``shard_index`` of ``shard_count`` runs (``--shard-index``).

    The same contiguous, balanced split as :func:`shard_ranges`: every index
    belongs to exactly one machine, and identities derive from the global
    index, so they are unique across machines.
    """
    if shard_count < 1:
        raise PlanningError(f"the shard count must be at least 1, got {shard_count}")
    if not 0 <= shard_index < shard_count:
        raise PlanningError(
            f"the shard index must be in 0..{shard_count - 1} (shard count {shard_count}), "
            f"got {shard_index}"
        )
    return shard_ranges(count, shard_count)[shard_index]
