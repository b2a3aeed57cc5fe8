"""Drive the decisions with a ManualClock over value sequences; check when notifications go out."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from fleet.clock import ManualClock, TimerHandle
from fleet.model.values import Value
from fleet.observe import NotificationAttributes, ObservationState, evaluate

A = NotificationAttributes


class Driver:
    """The smallest scheduler around :func:`evaluate`: one timer, changes pushed by the clock."""

    def __init__(self, clock: ManualClock, attrs: NotificationAttributes, value: Value) -> None:
        self.clock = clock
        self.attrs = attrs
        self.value = value
        self.state = ObservationState.start(clock.now(), value)
        self.sent: list[tuple[float, Value]] = [(clock.now(), value)]  # the Observe response
        self.timer: TimerHandle | None = None
        self.step(changed=False)

    def change_at(self, when: float, value: Value) -> None:
        self.clock.call_at(when, lambda: self.set(value))

    def set(self, value: Value) -> None:
        changed = value != self.value
        self.value = value
        if changed:
            self.step(changed=True)

    def wake(self) -> None:
        self.timer = None
        self.step(changed=False)

    def step(self, changed: bool) -> None:
        now = self.clock.now()
        result = evaluate(self.attrs, self.state, now, self.value, changed)
        if result.notify:
            self.sent.append((now, self.value))
        self.state = result.state
        assert result.deadline is None or result.deadline > now, "the scheduler would spin"
        if self.timer is not None:
            self.timer.cancel()
        self.timer = None
        if result.deadline is not None:
            self.timer = self.clock.call_at(result.deadline, self.wake)


def run(
    attrs: NotificationAttributes,
    start: Value,
    changes: Sequence[tuple[float, Value]],
    until: float,
) -> list[tuple[float, Value]]:
    clock = ManualClock()
    driver = Driver(clock, attrs, start)
    for when, value in changes:
        driver.change_at(when, value)
    clock.advance_sync(until)
    return driver.sent


def test_step_with_pmin_and_pmax() -> None:
    sent = run(
        A(pmin=10, pmax=30, st=2),
        20,
        [(3, 21), (5, 23), (8, 20), (12, 21), (25, 25.5), (56, 26), (57, 28)],
        until=100,
    )
    assert sent == [
        (0, 20),  # the Observe response
        (10, 20),  # the jump to 23 at t=5 was owed; reported at pmin with the value then
        (25, 25.5),  # 5.5 away from 20
        (55, 25.5),  # pmax
        (65, 28),  # 2.5 away at t=57, held back until pmin
        (95, 28),  # pmax
    ]


def test_thresholds_cross_and_touch() -> None:
    sequence: list[Value] = [24, 25, 26, 30, 25, 16, 15, 14, 15, 15.5]
    sent = run(A(lt=15, gt=25), 20, [(t + 1, v) for t, v in enumerate(sequence)], until=20)
    assert sent == [
        (0, 20),
        (3, 26),  # up through gt (touching 25 at t=2 was not a crossing)
        (5, 25),  # back down onto gt: no longer above it
        (8, 14),  # below lt (touching 15 at t=7 was not)
        (9, 15),  # back up onto lt: no longer below it
    ]


def test_text_values_report_every_change_after_pmin() -> None:
    sent = run(A(pmin=5), "idle", [(1, "busy"), (2, "idle"), (3, "busy"), (9, "off")], until=20)
    assert sent == [(0, "idle"), (5, "busy"), (10, "off")]


def test_pmin_greater_than_pmax_sends_nothing_periodic() -> None:
    sent = run(A(pmin=20, pmax=5), 1, [(30, 2)], until=100)
    assert sent == [(0, 1), (30, 2)]


def test_epmin_and_epmax_with_a_step() -> None:
    clock = ManualClock()
    driver = Driver(clock, A(epmin=4, epmax=10, st=5), 0)
    for when, value in [(1, 3), (2, 6), (3, 2), (6, 7), (7, 8)]:
        driver.change_at(when, value)
    clock.advance_sync(30)
    # The Observe response at t=0 was the last evaluation: changes at t=1..3 wait for t=4, when
    # the value is 2 (the jump to 6 is never seen). Those at t=6..7 wait for t=8: 8 is reported.
    assert driver.sent == [(0, 0), (8, 8)]
    # epmax then makes the scheduler sample every 10 s: t=18 and t=28.
    assert driver.state.evaluated_at == 28
    assert clock.next_deadline() == 38


EIGHTHS = st.integers(min_value=1, max_value=80).map(lambda n: n / 8)


@settings(max_examples=300, deadline=None)
@given(
    pmin=EIGHTHS,
    extra=st.integers(min_value=0, max_value=80).map(lambda n: n / 8),
    step=st.one_of(st.none(), st.integers(min_value=0, max_value=5)),
    changes=st.lists(
        st.tuples(st.integers(min_value=0, max_value=800), st.integers(-10, 10)), max_size=60
    ),
)
def test_gaps_between_notifications_stay_within_pmin_and_pmax(
    pmin: float, extra: float, step: int | None, changes: list[tuple[int, int]]
) -> None:
    pmax = pmin + extra
    horizon = 110.0
    sent = run(A(pmin=pmin, pmax=pmax, st=step), 0, [(t / 8, v) for t, v in changes], horizon)
    times = [when for when, _ in sent]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(pmin <= gap <= pmax for gap in gaps), (pmin, pmax, gaps)
    assert horizon - times[-1] < pmax  # no pmax was missed at the end either
