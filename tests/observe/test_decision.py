"""should_notify, next_deadline, change_is_reportable, evaluate: every pmin/pmax/gt/lt/st edge."""

from __future__ import annotations

import pytest

from fleet.model.values import Value
from fleet.observe import (
    NotificationAttributes,
    ObservationState,
    change_is_reportable,
    evaluate,
    next_deadline,
    should_notify,
)

A = NotificationAttributes
S = ObservationState

# -- the change value conditions -----------------------------------------------------------------

GT = A(gt=25)
LT = A(lt=15)
RSSI = A(lt=-80, gt=-60)
ST = A(st=2)


@pytest.mark.parametrize(
    ("attrs", "last", "value", "expected"),
    [
        pytest.param(GT, 20, 26, True, id="gt-cross-up"),
        pytest.param(GT, 26, 20, True, id="gt-cross-down"),
        pytest.param(GT, 20, 25, False, id="gt-touch-from-below"),
        pytest.param(GT, 25, 25.1, True, id="gt-leave-threshold-upwards"),
        pytest.param(GT, 26, 25, True, id="gt-fall-back-onto-threshold"),
        pytest.param(GT, 25, 24, False, id="gt-from-threshold-further-down"),
        pytest.param(GT, 26, 30, False, id="gt-stay-above"),
        pytest.param(GT, 10, 20, False, id="gt-stay-below"),
        pytest.param(A(gt=25.5), 25, 26, True, id="gt-fraction-int-values"),
        pytest.param(LT, 20, 14, True, id="lt-cross-down"),
        pytest.param(LT, 14, 20, True, id="lt-cross-up"),
        pytest.param(LT, 20, 15, False, id="lt-touch-from-above"),
        pytest.param(LT, 15, 14.9, True, id="lt-leave-threshold-downwards"),
        pytest.param(LT, 14, 15, True, id="lt-rise-back-onto-threshold"),
        pytest.param(LT, 10, 5, False, id="lt-stay-below"),
        pytest.param(LT, 16, 30, False, id="lt-stay-above"),
        pytest.param(RSSI, -70, -85, True, id="negative-cross-lt"),
        pytest.param(RSSI, -70, -59, True, id="negative-cross-gt"),
        pytest.param(RSSI, -70, -65, False, id="negative-between"),
        pytest.param(RSSI, -85, -90, False, id="negative-stay-below"),
        pytest.param(RSSI, -90, -50, True, id="negative-jump-over-both"),
        pytest.param(ST, 20, 22, True, id="st-exactly-equal-up"),
        pytest.param(ST, 20, 18, True, id="st-exactly-equal-down"),
        pytest.param(ST, 20, 21.9, False, id="st-smaller-up"),
        pytest.param(ST, 20, 18.5, False, id="st-smaller-down"),
        pytest.param(ST, 20, 30, True, id="st-bigger"),
        pytest.param(ST, -1, 1, True, id="st-across-zero"),
        pytest.param(A(st=0.2), 0.1, 0.3, True, id="st-equal-despite-float-noise"),
        pytest.param(A(st=0.2), 0.1, 0.2999, False, id="st-float-just-short"),
        pytest.param(A(st=1), 2**63 - 1, 2**63 - 2, True, id="st-huge-integers-exact"),
        pytest.param(A(st=0), 5, 5, True, id="st-zero-any-change"),
        pytest.param(A(gt=25, st=5), 20, 24, False, id="or-neither"),
        pytest.param(A(gt=25, st=5), 20, 26, True, id="or-gt-only"),
        pytest.param(A(gt=25, st=5), 26, 31, True, id="or-st-only"),
        pytest.param(A(gt=25, st=5), 26, 29, False, id="or-neither-above"),
        pytest.param(A(lt=10, gt=30, st=5), 12, 9, True, id="or-lt-small-step"),
        pytest.param(A(lt=10, gt=30, st=5), 20, 25, True, id="or-step-between"),
        pytest.param(A(lt=10, gt=30, st=5), 20, 24, False, id="or-none-between"),
        pytest.param(A(), 20, 21, True, id="no-conditions-any-change"),
        pytest.param(A(pmin=5, pmax=10), 20, 20, True, id="no-conditions-same-value-changed"),
        pytest.param(A(), "on", "off", True, id="text-any-change"),
        pytest.param(GT, "on", "off", True, id="text-ignores-thresholds"),
        pytest.param(GT, b"\x01", b"\x02", True, id="opaque-ignores-thresholds"),
        pytest.param(ST, True, False, True, id="boolean-is-not-numeric"),
        pytest.param(ST, None, 21, True, id="no-last-value"),
        pytest.param(GT, None, None, True, id="object-level-no-value"),
        pytest.param(A(edge=True), False, True, True, id="edge-rising-reported"),
        pytest.param(A(edge=True), True, False, False, id="edge-rising-ignores-falling"),
        pytest.param(A(edge=False), True, False, True, id="edge-falling-reported"),
        pytest.param(A(edge=False), False, True, False, id="edge-falling-ignores-rising"),
        pytest.param(A(edge=True), True, True, False, id="edge-no-transition"),
        pytest.param(A(edge=True), 1, 2, True, id="edge-ignored-for-numbers"),
    ],
)
def test_change_is_reportable(
    attrs: NotificationAttributes, last: Value | None, value: Value | None, expected: bool
) -> None:
    assert change_is_reportable(attrs, last, value) is expected


# -- timing: pmin and pmax -----------------------------------------------------------------------

P = A(pmin=10, pmax=60)
AT_100 = S(notified_at=100, value=20, evaluated_at=100)
PENDING = S(notified_at=100, value=20, pending=True, evaluated_at=103)


@pytest.mark.parametrize(
    ("attrs", "state", "now", "value", "changed", "expected"),
    [
        pytest.param(P, AT_100, 105, 25, True, False, id="change-before-pmin"),
        pytest.param(P, AT_100, 109.99, 25, True, False, id="change-just-before-pmin"),
        pytest.param(P, AT_100, 110, 25, True, True, id="change-exactly-at-pmin"),
        pytest.param(P, AT_100, 110 - 1e-7, 25, True, True, id="timer-fired-a-hair-early"),
        pytest.param(P, AT_100, 130, 25, True, True, id="change-after-pmin"),
        pytest.param(P, AT_100, 130, 20, False, False, id="no-change-between-pmin-and-pmax"),
        pytest.param(P, AT_100, 159.99, 20, False, False, id="just-before-pmax"),
        pytest.param(P, AT_100, 160, 20, False, True, id="exactly-at-pmax"),
        pytest.param(P, AT_100, 500, 20, False, True, id="long-after-pmax"),
        pytest.param(P, PENDING, 105, 20, False, False, id="pending-before-pmin"),
        pytest.param(P, PENDING, 110, 20, False, True, id="pending-at-pmin-same-value"),
        pytest.param(A(pmin=0), AT_100, 100, 21, True, True, id="pmin-zero-immediately"),
        pytest.param(A(), AT_100, 100, 21, True, True, id="no-attributes-immediately"),
        pytest.param(A(), AT_100, 10**6, 20, False, False, id="no-pmax-never-periodic"),
        pytest.param(A(pmax=0), AT_100, 10**6, 20, False, False, id="pmax-zero-never-periodic"),
        pytest.param(A(pmin=60, pmax=10), AT_100, 110, 20, False, False, id="pmin-gt-pmax-at-pmax"),
        pytest.param(A(pmin=60, pmax=10), AT_100, 500, 20, False, False, id="pmin-gt-pmax-late"),
        pytest.param(A(pmin=60, pmax=10), AT_100, 130, 21, True, False, id="pmin-gt-pmax-early"),
        pytest.param(A(pmin=60, pmax=10), AT_100, 160, 21, True, True, id="pmin-gt-pmax-change"),
        pytest.param(A(pmin=10, pmax=10), AT_100, 110, 20, False, True, id="pmin-eq-pmax"),
        pytest.param(A(pmin=10, gt=25), AT_100, 120, 24, True, False, id="after-pmin-no-cross"),
        pytest.param(A(pmin=10, gt=25), AT_100, 120, 26, True, True, id="after-pmin-cross"),
        pytest.param(A(pmin=10, gt=25), AT_100, 105, 26, True, False, id="before-pmin-cross"),
        pytest.param(A(pmax=60, gt=25), AT_100, 160, 21, False, True, id="pmax-despite-gt"),
        pytest.param(A(pmin=0.5), AT_100, 100.5, "x", True, True, id="fractional-pmin"),
    ],
)
def test_should_notify(
    attrs: NotificationAttributes,
    state: ObservationState,
    now: float,
    value: Value,
    changed: bool,
    expected: bool,
) -> None:
    assert should_notify(attrs, state, now, value, changed) is expected


def test_deadline_that_does_not_survive_float_arithmetic_still_counts() -> None:
    state = S(notified_at=0.7, value=1, pending=True)
    attrs = A(pmin=0.1)
    deadline = next_deadline(attrs, state, 0.7)
    assert deadline is not None
    assert deadline - 0.7 < 0.1  # 0.7 + 0.1 - 0.7 is a hair below pmin in binary floats
    assert should_notify(attrs, state, deadline, 1, changed=False)


@pytest.mark.parametrize(
    ("attrs", "state", "now", "pending_change", "expected"),
    [
        pytest.param(A(pmin=10), AT_100, 101, False, None, id="nothing-to-wait-for"),
        pytest.param(A(), AT_100, 101, False, None, id="no-attributes"),
        pytest.param(A(pmax=60), AT_100, 101, False, 160, id="pmax"),
        pytest.param(P, PENDING, 103, False, 110, id="pending-waits-for-pmin"),
        pytest.param(P, AT_100, 103, True, 110, id="caller-pending-change-waits-for-pmin"),
        pytest.param(P, PENDING, 120, False, 120, id="pending-overdue-means-now"),
        pytest.param(P, AT_100, 200, False, 200, id="pmax-overdue-means-now"),
        pytest.param(A(pmin=60, pmax=10), AT_100, 101, False, None, id="pmin-gt-pmax-no-periodic"),
        pytest.param(A(pmin=60, pmax=10), PENDING, 101, False, 160, id="pmin-gt-pmax-pending"),
        pytest.param(A(pmax=0), AT_100, 101, False, None, id="pmax-zero"),
        pytest.param(A(pmin=10, pmax=10), AT_100, 101, True, 110, id="pmin-eq-pmax"),
        pytest.param(A(epmax=30), S(100, 20, evaluated_at=120), 121, False, 150, id="epmax"),
        pytest.param(A(epmax=30), S(100, 20), 101, False, 130, id="epmax-never-evaluated"),
        pytest.param(
            A(pmax=40, epmax=30), S(100, 20, evaluated_at=120), 121, False, 140, id="pmax-first"
        ),
        pytest.param(
            A(epmin=30, epmax=20), AT_100, 101, False, None, id="epmax-below-epmin-ignored"
        ),
        pytest.param(
            A(epmin=5),
            S(100, 20, unevaluated=True, evaluated_at=103),
            104,
            False,
            108,
            id="unevaluated-waits-for-epmin",
        ),
        pytest.param(
            A(pmin=2, epmin=5),
            S(100, 20, evaluated_at=104),
            104,
            True,
            109,
            id="caller-pending-change-waits-for-epmin-after-pmin",
        ),
        pytest.param(
            A(pmin=8, epmin=5),
            S(100, 20, evaluated_at=101),
            102,
            True,
            108,
            id="caller-pending-change-waits-for-pmin-after-epmin",
        ),
    ],
)
def test_next_deadline(
    attrs: NotificationAttributes,
    state: ObservationState,
    now: float,
    pending_change: bool,
    expected: float | None,
) -> None:
    assert next_deadline(attrs, state, now, pending_change) == expected


# -- evaluate: the state machine a driver runs ---------------------------------------------------


def test_change_before_pmin_is_reported_at_pmin_with_the_value_current_then() -> None:
    attrs = A(pmin=10, gt=25)
    state = S.start(0, 20)
    first = evaluate(attrs, state, 2, 26, changed=True)  # crosses gt, too early
    assert (first.notify, first.state.pending, first.deadline) == (False, True, 10)
    second = evaluate(attrs, first.state, 5, 24, changed=True)  # back below: still owed
    assert (second.notify, second.state.pending, second.deadline) == (False, True, 10)
    third = evaluate(attrs, second.state, 10, 24, changed=False)
    assert third.notify
    assert third.state == S(notified_at=10, value=24, evaluated_at=10)
    assert third.deadline is None


def test_change_that_meets_no_condition_before_pmin_is_not_owed() -> None:
    step = evaluate(A(pmin=10, st=5), S.start(0, 20), 2, 21, changed=True)
    assert (step.notify, step.state.pending, step.deadline) == (False, False, None)
    assert step.state.evaluated_at == 2


def test_reported_value_becomes_the_reference_for_thresholds() -> None:
    attrs = A(st=2)
    step = evaluate(attrs, S.start(0, 20), 1, 22, changed=True)
    assert step.notify and step.state.value == 22
    assert not evaluate(attrs, step.state, 2, 23, changed=True).notify  # 1 from 22, not 3 from 20
    assert evaluate(attrs, step.state, 2, 24, changed=True).notify


def test_change_inside_epmin_is_evaluated_when_epmin_ends() -> None:
    attrs = A(epmin=5)
    held = evaluate(attrs, S.start(0, 20), 2, 21, changed=True)
    assert (held.notify, held.state.unevaluated, held.deadline) == (False, True, 5)
    done = evaluate(attrs, held.state, 5, 21, changed=False)
    assert done.notify and done.state == S(notified_at=5, value=21, evaluated_at=5)


def test_epmin_evaluation_uses_the_value_at_that_time() -> None:
    attrs = A(epmin=5, st=3)
    held = evaluate(attrs, S.start(0, 20), 2, 30, changed=True)  # a big jump, held back
    done = evaluate(attrs, held.state, 5, 21, changed=False)  # back near 20 when evaluated
    assert not done.notify
    assert done.state == S(notified_at=0, value=20, evaluated_at=5)
    assert done.deadline is None


def test_epmax_wakes_the_scheduler_and_moves_on() -> None:
    attrs = A(epmax=10)
    start = S.start(0, 20)
    assert next_deadline(attrs, start, 0) == 10
    quiet = evaluate(attrs, start, 10, 20, changed=False)
    assert (quiet.notify, quiet.state.evaluated_at, quiet.deadline) == (False, 10, 20)
    spurious = evaluate(attrs, quiet.state, 12, 20, changed=False)
    assert spurious.state == quiet.state and spurious.deadline == 20


def test_object_level_observation_reports_any_change_after_pmin() -> None:
    attrs = A(pmin=5, pmax=30)
    held = evaluate(attrs, S.start(0), 1, None, changed=True)
    assert (held.notify, held.state.pending, held.deadline) == (False, True, 5)
    sent = evaluate(attrs, held.state, 5, None, changed=False)
    assert sent.notify and sent.deadline == 35


def test_pmax_notification_needs_no_change() -> None:
    step = evaluate(A(pmin=1, pmax=30), S.start(0, 20), 30, 20, changed=False)
    assert step.notify and step.deadline == 60
