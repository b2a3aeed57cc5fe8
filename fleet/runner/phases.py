"""The scenario's arrival phases while a run goes on: which one is running (for the progress
line) and what each brought (for the summary's :class:`~fleet.metrics.phases.PhaseLine`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from fleet.metrics.phases import PhaseLine, phase_label
from fleet.runner.planning import ArrivalPlan


def current_phase(plan: ArrivalPlan, time: float) -> str | None:
    """The label of the phase running at ``time`` run seconds (``None``: no phases, or after
    the last one)."""
    for segment in plan.segments:
        if segment.start <= time < segment.end:
            return phase_label(segment.phase.name, segment.index)
    return None


def phase_lines(
    plan: ArrivalPlan, indexes: Iterable[int], arrived: Mapping[int, int]
) -> tuple[PhaseLine, ...]:
    """Each phase with the devices of ``indexes`` it was to bring and ``arrived`` (by phase
    position) did."""
    planned = [0] * len(plan.segments)
    for index in indexes:
        segment = plan.phase_of(index)
        if segment is not None:
            planned[segment.index] += 1
    return tuple(
        PhaseLine(
            phase_label(segment.phase.name, segment.index),
            segment.start,
            segment.end,
            planned[segment.index],
            arrived.get(segment.index, 0),
        )
        for segment in plan.segments
    )
