"""Arrival planning, churn schedules and shard ranges (pure; no clock, no sockets)."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.device.generators import device_rng
from fleet.runner.planning import (
    PlanningError,
    churn_schedule,
    plan_arrivals,
    shard_of,
    shard_ranges,
)
from fleet.runner.spread import SpreadOrder
from fleet.scenario.endpoints import Range, check_pattern, find_clashes
from fleet.scenario.phases import Churn, CountPhase, PausePhase, Phase, RatePhase


def times(phases: list[Phase], count: int, duration: float | None = None) -> list[float]:
    plan = plan_arrivals(phases, count, duration)
    result = [plan.time_of(i) for i in range(count)]
    return [t for t in result if t is not None]


# -- arrivals: one table per phase kind ------------------------------------------------------------


@pytest.mark.parametrize(
    ("phases", "count", "expected"),
    [
        # constant rate: the k-th device when rate * t reaches k
        ([RatePhase(5, 2)], 100, [0.5 * k for k in range(1, 11)]),
        ([RatePhase(10, 0.7)], 100, [10 * k / 7 for k in range(1, 8)]),  # 7 (decimal), not 6
        # ramp up 0 -> 2 over 10 s: integral t^2/10
        ([RatePhase(10, 0, ramp_to=2)], 100, [math.sqrt(10 * k) for k in range(1, 11)]),
        # ramp down 2 -> 0 over 10 s: integral 2t - t^2/20 ... = 10 - sqrt(100 - 10k)
        ([RatePhase(10, 2, ramp_to=0)], 100, [10 - math.sqrt(100 - 10 * k) for k in range(1, 11)]),
        # ramp 1 -> 3 over 4 s: t + t^2/4 = k
        ([RatePhase(4, 1, ramp_to=3)], 100, [2 * (math.sqrt(1 + k) - 1) for k in range(1, 9)]),
        ([RatePhase(10, 0)], 100, []),
        ([RatePhase(10, 0, ramp_to=0)], 100, []),
        # count: spread evenly, the last one at the end of the phase
        ([CountPhase(10, 4)], 100, [2.5, 5.0, 7.5, 10.0]),
        ([CountPhase(10, 0)], 100, []),
        ([CountPhase(0, 3)], 100, [0.0, 0.0, 0.0]),
        # pauses shift what follows
        ([PausePhase(30), CountPhase(10, 2)], 100, [35.0, 40.0]),
        ([CountPhase(2, 2), PausePhase(5), CountPhase(2, 1)], 100, [1.0, 2.0, 9.0]),
        # fractions carry over: 1.5 devices in phase 1, the 2nd at 4 s
        ([RatePhase(3, 0.5), RatePhase(2, 0.5)], 100, [2.0, 4.0]),
        ([RatePhase(3, 0.5), CountPhase(2, 2)], 100, [2.0, 3.5, 4.5]),  # exactly 2 in phase 2
        # no phases: everybody at once
        ([], 3, [0.0, 0.0, 0.0]),
    ],
)
def test_arrival_times(phases: list[Phase], count: int, expected: list[float]) -> None:
    assert times(phases, count) == pytest.approx(expected, abs=1e-9)


def test_vanishing_rates_bring_nobody_without_overflow() -> None:
    assert times([RatePhase(0.0, 5e-324)], 5) == []
    assert times([RatePhase(1e6, 5e-324), CountPhase(1, 1)], 5) == [1e6 + 1]


def test_the_count_caps_the_plan_and_surplus_says_what_the_phases_would_bring() -> None:
    plan = plan_arrivals([CountPhase(10, 5), CountPhase(10, 5)], 7)
    assert plan.arriving == 7 and plan.missing == 0 and plan.surplus == 3
    assert [plan.time_of(i) for i in range(7)] == [2, 4, 6, 8, 10, 12, 14]
    assert plan.phase_of(4) is not None and plan.phase_of(4).index == 0  # type: ignore[union-attr]
    assert plan.phase_of(5).index == 1  # type: ignore[union-attr]


def test_devices_the_phases_do_not_bring_never_arrive() -> None:
    plan = plan_arrivals([RatePhase(10, 1)], 25)
    assert plan.arriving == 10 and plan.missing == 15 and plan.surplus == 0
    assert plan.time_of(9) == 10.0 and plan.time_of(10) is None
    assert plan.phase_of(10) is None and plan.end == 10.0


def test_arrivals_at_or_after_the_run_end_are_dropped() -> None:
    plan = plan_arrivals([RatePhase(100, 1)], 1000, duration=30.0)
    assert plan.arriving == 29 and plan.time_of(28) == 29.0 and plan.time_of(29) is None
    assert plan_arrivals([], 5, duration=0.0).arriving == 0


@pytest.mark.parametrize(
    ("phases", "count", "duration", "order"),
    [
        ([RatePhase(10, -1)], 10, None, "index"),
        ([RatePhase(10, 1, ramp_to=-1)], 10, None, "index"),
        ([CountPhase(10, -1)], 10, None, "index"),
        ([PausePhase(-1)], 10, None, "index"),
        ([RatePhase(float("inf"), 1)], 10, None, "index"),
        ([], -1, None, "index"),
        ([], 10, -5.0, "index"),
        ([], 10, None, "random"),
    ],
)
def test_impossible_plans_are_refused(
    phases: list[Phase], count: int, duration: float | None, order: str
) -> None:
    with pytest.raises(PlanningError):
        plan_arrivals(phases, count, duration, order=order)


PHASE = st.one_of(
    st.builds(RatePhase, st.floats(0, 50), st.floats(0, 20), st.none() | st.floats(0, 20)),
    st.builds(CountPhase, st.floats(0.5, 50), st.integers(0, 40)),
    st.builds(PausePhase, st.floats(0, 20)),
)


def _integral(phases: list[Phase], t: float) -> float:
    total, start = 0.0, 0.0
    for phase in phases:
        x = min(max(t - start, 0.0), phase.duration)
        if x <= 0:
            pass
        elif isinstance(phase, RatePhase):
            r0 = phase.arrival_rate
            r1 = phase.ramp_to if phase.ramp_to is not None else r0
            if x >= phase.duration:  # the whole phase: its mean rate times its length
                total += phase.duration * (r0 + r1) / 2
            else:
                total += r0 * x + (r1 - r0) / phase.duration * x * x / 2
        elif isinstance(phase, CountPhase):
            total += phase.arrival_count * x / phase.duration
        start += phase.duration
    return total


@settings(max_examples=150, deadline=None)
@given(st.lists(PHASE, max_size=5), st.integers(0, 300))
def test_the_kth_device_arrives_when_the_rate_integral_reaches_k(
    phases: list[Phase], count: int
) -> None:
    plan = plan_arrivals(phases, count)
    arrivals = times(phases, count)
    assert len(arrivals) == plan.arriving <= count
    assert arrivals == sorted(arrivals)
    exact_total = sum(
        (
            Fraction(repr(p.duration))
            * (
                Fraction(repr(p.arrival_rate))
                + Fraction(repr(p.ramp_to if p.ramp_to is not None else p.arrival_rate))
            )
            / 2
            if isinstance(p, RatePhase)
            else Fraction(p.arrival_count)
            if isinstance(p, CountPhase)
            else Fraction(0)
        )
        for p in phases
    )
    if phases:
        assert plan.arriving == min(count, math.floor(exact_total))
    for k, t in enumerate(arrivals, start=1):
        segment = plan.phase_of(k - 1)
        if segment is None:
            continue
        assert segment.start - 1e-9 <= t <= segment.end + 1e-9
        assert _integral(phases, t) == pytest.approx(k, rel=1e-6, abs=1e-6)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 3000), st.integers(1, 9))
def test_spread_order_is_a_permutation_that_balances_contiguous_shards(
    count: int, shards: int
) -> None:
    plan = plan_arrivals([CountPhase(count, count)], count, order="spread")
    ranks = [plan.rank_of(i) for i in range(count)]
    assert sorted(ranks) == list(range(count))
    assert all(plan.index_of(plan.rank_of(i)) == i for i in range(count))
    assert min(t for _, t in plan.arrivals()) == 1.0
    if count >= 100:
        # any early prefix of the arrivals lands on every shard in proportion to its size
        for prefix in (count // 10, count // 5, count // 2):
            early = {plan.index_of(r) for r in range(prefix)}
            for part in shard_ranges(count, shards):
                share = len(early & set(part)) / len(early)
                assert share == pytest.approx(len(part) / count, abs=2 / len(early) + 0.01)


def test_spread_order_interleaves_the_first_arrivals() -> None:
    order = SpreadOrder(1000)
    first = [order.index_of(r) for r in range(4)]
    assert first == [0, 500, 250, 750]
    assert [order.index_of(r) for r in range(256, 258)] == [1, 501]
    assert SpreadOrder(1).index_of(0) == 0


def test_index_order_keeps_names_in_arrival_order() -> None:
    plan = plan_arrivals([RatePhase(10, 1)], 10)
    assert [i for i, _ in plan.arrivals()] == list(range(10))
    assert list(plan.arrivals(range(3, 6))) == [(3, 4.0), (4, 5.0), (5, 6.0)]


# -- churn -----------------------------------------------------------------------------------------


def test_churn_is_seeded_per_device_and_never_overlaps() -> None:
    churn = Churn(deregister_rate=2.0, away=30.0)
    first = list(churn_schedule(churn, 100, device_rng(1, 7, "churn"), 10.0, 3600.0))
    again = list(churn_schedule(churn, 100, device_rng(1, 7, "churn"), 10.0, 3600.0))
    other = list(churn_schedule(churn, 100, device_rng(1, 8, "churn"), 10.0, 3600.0))
    assert first == again and first != other and first
    moment = 10.0
    for leave, back in first:
        assert moment <= leave < 3600.0 and back == pytest.approx(leave + 30.0)
        moment = back


def test_churn_over_the_fleet_runs_at_about_the_configured_rate() -> None:
    churn = Churn(deregister_rate=5.0, away=10.0)
    count, end = 500, 1000.0
    leaves = sum(
        len(list(churn_schedule(churn, count, device_rng(3, i, "churn"), 0.0, end)))
        for i in range(count)
    )
    # each device is away 10 s per leave, about 1 % of the time: the rate is ~5/s * 0.99
    assert 4.5 * end < leaves < 5.3 * end


def test_no_churn_and_bad_churn() -> None:
    assert list(churn_schedule(Churn(), 10, device_rng(1, 1), 0, 1e6)) == []
    with pytest.raises(PlanningError):
        list(churn_schedule(Churn(-1.0), 10, device_rng(1, 1), 0, 10))


# -- shards and identities -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "shards", "sizes"),
    [
        (10, 1, [10]),
        (10, 3, [4, 3, 3]),
        (10, 5, [2, 2, 2, 2, 2]),
        (3, 5, [1, 1, 1, 0, 0]),
        (0, 2, [0, 0]),
        (1_000_001, 4, [250_001, 250_000, 250_000, 250_000]),
    ],
)
def test_shard_ranges(count: int, shards: int, sizes: list[int]) -> None:
    ranges = shard_ranges(count, shards)
    assert [len(r) for r in ranges] == sizes
    assert [i for r in ranges for i in r] == list(range(count))


@given(st.integers(1, 10_000), st.integers(1, 64), st.data())
def test_shard_of_is_the_inverse_of_shard_ranges(
    count: int, shards: int, data: st.DataObject
) -> None:
    ranges = shard_ranges(count, shards)
    index = data.draw(st.integers(0, count - 1))
    assert index in ranges[shard_of(index, count, shards)]
    assert max(len(r) for r in ranges) - min(len(r) for r in ranges) <= 1


def test_bad_shard_numbers() -> None:
    with pytest.raises(PlanningError):
        shard_ranges(10, 0)
    with pytest.raises(PlanningError):
        shard_of(10, 10, 2)


def test_identities_are_unique_across_shards_and_independent_of_the_shard_count() -> None:
    pattern, count = "sim-{index:06d}", 2000
    check_pattern(pattern, count)
    names_by_layout = []
    for shards in (1, 3, 7):
        names = [pattern.format(index=i) for part in shard_ranges(count, shards) for i in part]
        assert len(set(names)) == count
        assert (
            find_clashes(
                [
                    Range(s, pattern, r.start, len(r))
                    for s, r in enumerate(shard_ranges(count, shards))
                ]
            )
            == []
        )
        names_by_layout.append(names)
        seeds = [device_rng(9, i).random() for part in shard_ranges(count, shards) for i in part]
        assert len(set(seeds)) == count
    assert names_by_layout[0] == names_by_layout[1] == names_by_layout[2]
