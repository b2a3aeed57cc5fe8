"""The arrival phases of a run as the summary shows them: one :class:`PhaseLine` per phase.

A scenario's ``phases:`` each have an optional ``name`` ("Name shown in progress and
summary"); an unnamed phase is shown by its position (``2``). The summary keeps, per
phase, when it ran (run seconds) and how many devices it was to bring and brought::

    "phases": [{"name": "warm-up", "start": 0.0, "end": 60.0, "planned": 100, "arrived": 100},
               {"name": "2", "start": 60.0, "end": 120.0, "planned": 400, "arrived": 212}]

and the text summary one line: ``phases: warm-up 0-60s 100/100 arrived, 2 60-120s 212/400
arrived``. Shards of one run share the phases: :func:`merge_phases` adds the counts of
phases at the same position.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PhaseLine:
    """One arrival phase of a run: its label, span (run seconds) and devices."""

    name: str
    start: float
    end: float
    planned: int
    arrived: int

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "start": self.start,
            "end": self.end,
            "planned": self.planned,
            "arrived": self.arrived,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object], where: str) -> PhaseLine:
        """One phase of a summary document; ``ValueError`` saying ``where`` when malformed."""
        name, start, end = data.get("name"), data.get("start"), data.get("end")
        planned, arrived = data.get("planned"), data.get("arrived")
        if not isinstance(name, str):
            raise ValueError(f"{where}: name must be text, got {name!r}")
        for key, number in (("start", start), ("end", end)):
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise ValueError(f"{where}: {key} must be a number, got {number!r}")
        for key, count in (("planned", planned), ("arrived", arrived)):
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ValueError(f"{where}: {key} must be a count, got {count!r}")
        assert isinstance(start, int | float) and isinstance(end, int | float)
        assert isinstance(planned, int) and isinstance(arrived, int)
        return cls(name, float(start), float(end), planned, arrived)


def phase_label(name: str, index: int) -> str:
    """How progress and summary name a phase: its ``name``, else its 1-based position."""
    return name or str(index + 1)


def merge_phases(runs: Iterable[Sequence[PhaseLine]]) -> tuple[PhaseLine, ...]:
    """The phases of shards run together: counts added position by position."""
    merged: list[PhaseLine] = []
    for phases in runs:
        for position, phase in enumerate(phases):
            if position == len(merged):
                merged.append(phase)
                continue
            into = merged[position]
            name = into.name if into.name == phase.name else f"{into.name} + {phase.name}"
            merged[position] = PhaseLine(
                name,
                min(into.start, phase.start),
                max(into.end, phase.end),
                into.planned + phase.planned,
                into.arrived + phase.arrived,
            )
    return tuple(merged)


def phases_text(phases: Sequence[PhaseLine]) -> str:
    """``phases: warm-up 0-60s 100/100 arrived, ...`` (empty text without phases)."""
    if not phases:
        return ""
    parts = [f"{p.name} {p.start:g}-{p.end:g}s {p.arrived}/{p.planned} arrived" for p in phases]
    return "phases: " + ", ".join(parts)
