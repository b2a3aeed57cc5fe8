"""When does a device speak up: the pure decisions behind LwM2M notifications.

Given the effective :class:`NotificationAttributes` of an observation and an
:class:`ObservationState` (what was last notified, when), these functions say whether to notify
now and when the scheduler must look again. They never read a clock or sleep; the caller passes
``now`` (from a :class:`fleet.clock.Clock`) and keeps the returned state.

The rules, from LwM2M 1.1.1 section 5.1.2 (table 5.1.2-2) unless stated otherwise:

1. **pmin**: no notification before ``pmin`` seconds after the last one. A change that should
   be reported before that is reported as soon as pmin expires, with the value current then.
2. **pmax**: when ``pmax`` seconds have passed since the last notification, a notification is
   sent whatever the value did. pmax absent, 0 or smaller than pmin: no periodic notification.
3. **Change value conditions** (resource or resource-instance observations of a number):
   ``gt``/``lt`` report a change that *crosses* the threshold since the last notified value,
   in either direction. The specification only says "crosses"; we read it as a change of side,
   the value being "above gt" when ``value > gt`` and "below lt" when ``value < lt``: reaching
   the threshold exactly from the inside is no crossing, falling back onto it from outside is.
   ``st`` reports a change of at least ``st`` from the last notified value (equality counts;
   compared with a relative tolerance of 1e-9 so that 0.1 -> 0.3 meets st=0.2). When several
   are present they are OR-ed: any one met is enough. With none of them, any change is
   reported. They do not apply to non-numeric values, nor to object or instance observations
   (where any change in the subtree is reported).
4. **edge** (1.2, Boolean resources): only the rising (edge=1, false -> true) or falling (edge=0,
   true -> false) transition since the last notified value is reported.
5. **epmin** / **epmax**: the reporting criteria are evaluated at most once per ``epmin`` seconds
   (a change arriving earlier is evaluated when epmin expires) and at least once per ``epmax``
   seconds (the scheduler wakes up so that the caller can sample the value).

The Observe response counts as the first notification (:meth:`ObservationState.start`).
:func:`evaluate` combines the primitives :func:`should_notify` and :func:`next_deadline` into
one step for a driver::

    step = evaluate(attrs, state, clock.now(), value, changed=True)
    if step.notify: send(value)
    state = step.state
    if step.deadline is not None: clock.call_at(step.deadline, wake_up)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Final

from fleet.model.values import Value
from fleet.observe.attributes import NotificationAttributes

TIME_TOLERANCE: Final = 1e-6
"""A deadline counts as reached this many seconds early: event loops may fire timers a little
before their time, and ``t0 + pmin`` does not always survive a round trip through floats."""

STEP_TOLERANCE: Final = 1e-9
"""Relative tolerance when comparing a change with st, so float noise does not hide equality."""


@dataclass(frozen=True, slots=True)
class ObservationState:
    """What one observation last told the server, and what it still owes it.

    ``notified_at``/``value``: time and value of the last notification (the Observe response
    first); ``value`` is ``None`` for object, instance and multiple-instance resource
    observations, whose notifications carry several values. ``pending``: a change
    met the reporting conditions before pmin expired and will be reported at pmin.
    ``unevaluated``: a change arrived before epmin allowed evaluating it. ``evaluated_at``: when
    the reporting criteria were last evaluated (``None``: never, so epmin does not hold back).
    """

    notified_at: float
    value: Value | None = None
    pending: bool = False
    unevaluated: bool = False
    evaluated_at: float | None = None

    @classmethod
    def start(cls, now: float, value: Value | None = None) -> ObservationState:
        """The state right after the Observe response carrying ``value`` was sent at ``now``."""
        return cls(notified_at=now, value=value, evaluated_at=now)

    def notified(self, now: float, value: Value | None) -> ObservationState:
        """The state right after a notification carrying ``value`` was sent at ``now``."""
        return ObservationState(notified_at=now, value=value, evaluated_at=now)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The outcome of :func:`evaluate`: notify or not, the new state, when to look again."""

    notify: bool
    state: ObservationState
    deadline: float | None


def change_is_reportable(
    attrs: NotificationAttributes, last: Value | None, value: Value | None
) -> bool:
    """Whether a change from the last notified value ``last`` to ``value`` is to be reported.

    Timing is not considered here (see :func:`should_notify`); rules 3 and 4 of the module
    docstring. The caller has established that something changed.
    """
    if attrs.edge is not None and isinstance(value, bool) and isinstance(last, bool):
        return value is attrs.edge and last is not value
    current, previous = _number(value), _number(last)
    if current is None or previous is None or not attrs.has_value_conditions:
        return True
    if attrs.gt is not None and (previous > attrs.gt) != (current > attrs.gt):
        return True
    if attrs.lt is not None and (previous < attrs.lt) != (current < attrs.lt):
        return True
    if attrs.st is not None:
        moved = abs(current - previous)
        if moved >= attrs.st or math.isclose(moved, attrs.st, rel_tol=STEP_TOLERANCE):
            return True
    return False


def should_notify(
    attrs: NotificationAttributes,
    state: ObservationState,
    now: float,
    value: Value | None,
    changed: bool,
) -> bool:
    """Whether a notification carrying ``value`` goes out at ``now``.

    ``changed`` says that the observed target changed since the last evaluation (for an object
    or instance observation: anything in its subtree). In order: never before pmin; always once
    pmax is reached; a change that became pending before pmin goes out now; otherwise a change
    is reported when epmin allows evaluating it and :func:`change_is_reportable` says so.
    """
    if now + TIME_TOLERANCE < state.notified_at + attrs.min_period:
        return False
    pmax = attrs.max_period
    if pmax is not None and now + TIME_TOLERANCE >= state.notified_at + pmax:
        return True
    if state.pending:
        return True
    if not (changed or state.unevaluated) or not _may_evaluate(attrs, state, now):
        return False
    return change_is_reportable(attrs, state.value, value)


def next_deadline(
    attrs: NotificationAttributes,
    state: ObservationState,
    now: float,
    pending_change: bool = False,
) -> float | None:
    """The earliest time the scheduler must call again, or ``None`` when only a change can matter.

    Candidates: pmin expiry when a reportable change is pending (``state.pending``); the end
    of epmin when a change waits to be evaluated (``state.unevaluated``); for
    ``pending_change`` (a change the caller holds back itself) the first moment it may be
    reported, the later of pmin expiry and the end of epmin; the pmax expiry; the epmax
    expiry after the last evaluation. A deadline already passed is returned as ``now``.
    """
    candidates: list[float] = []
    pmin_at = state.notified_at + attrs.min_period
    if state.pending:
        candidates.append(pmin_at)
    if state.unevaluated:
        candidates.append(_evaluation_allowed_at(attrs, state))
    if pending_change:
        candidates.append(max(pmin_at, _evaluation_allowed_at(attrs, state)))
    pmax = attrs.max_period
    if pmax is not None:
        candidates.append(state.notified_at + pmax)
    epmax = attrs.max_evaluation_period
    if epmax is not None:
        base = state.evaluated_at if state.evaluated_at is not None else state.notified_at
        candidates.append(base + epmax)
    if not candidates:
        return None
    return max(min(candidates), now)


def evaluate(
    attrs: NotificationAttributes,
    state: ObservationState,
    now: float,
    value: Value | None,
    changed: bool,
) -> Evaluation:
    """One scheduler step: decide, update the state, and say when to look again.

    Call it when the observed target changed (``changed=True``) and when a deadline it returned
    is reached (``changed`` as the caller knows it; ``False`` is fine when changes are always
    reported as they happen). ``value`` is the current value (``None`` above resource level).
    After a step the returned deadline is always later than ``now`` or ``None``.
    """
    if should_notify(attrs, state, now, value, changed):
        new = state.notified(now, value)
        return Evaluation(True, new, next_deadline(attrs, new, now))
    new = state
    if changed or state.unevaluated:
        if _may_evaluate(attrs, state, now):
            reportable = change_is_reportable(attrs, state.value, value)
            new = replace(
                state, pending=state.pending or reportable, unevaluated=False, evaluated_at=now
            )
        else:
            new = replace(state, unevaluated=True)
    elif _evaluation_overdue(attrs, state, now):
        new = replace(state, evaluated_at=now)
    return Evaluation(False, new, next_deadline(attrs, new, now))


def _may_evaluate(attrs: NotificationAttributes, state: ObservationState, now: float) -> bool:
    return now + TIME_TOLERANCE >= _evaluation_allowed_at(attrs, state)


def _evaluation_allowed_at(attrs: NotificationAttributes, state: ObservationState) -> float:
    if state.evaluated_at is None:
        return -math.inf
    return state.evaluated_at + attrs.min_evaluation_period


def _evaluation_overdue(attrs: NotificationAttributes, state: ObservationState, now: float) -> bool:
    epmax = attrs.max_evaluation_period
    if epmax is None:
        return False
    base = state.evaluated_at if state.evaluated_at is not None else state.notified_at
    return now + TIME_TOLERANCE >= base + epmax


def _number(value: Value | None) -> int | float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return value
