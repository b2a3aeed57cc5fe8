"""Arrival phases of a scenario, in the vocabulary load testers know.

A run is a sequence of phases. Each phase brings devices in (they then stay
until the run ends, unless churn takes them away):

- :class:`RatePhase` — ``duration`` with ``arrivalRate`` devices per second,
  optionally ramping linearly to ``rampTo`` by the end of the phase;
- :class:`CountPhase` — ``arrivalCount`` devices spread evenly over ``duration``;
- :class:`PausePhase` — ``pause``: nobody arrives for that long.

These are plain frozen data; validation lives in the scenario loader and the
arrival schedule in :mod:`fleet.runner.planning`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RatePhase:
    duration: float
    arrival_rate: float
    ramp_to: float | None = None
    name: str = ""


@dataclass(frozen=True, slots=True)
class CountPhase:
    duration: float
    arrival_count: int
    name: str = ""


@dataclass(frozen=True, slots=True)
class PausePhase:
    duration: float
    name: str = ""


Phase = RatePhase | CountPhase | PausePhase


@dataclass(frozen=True, slots=True)
class Churn:
    """Devices leaving and coming back while the run goes on.

    ``deregister_rate`` devices per second de-register (chosen by the seeded
    generator among those registered) and re-register after ``away`` seconds.
    Churn begins ``start`` seconds into the run (``None``: when the last phase
    ends, i.e. once the fleet has arrived).
    """

    deregister_rate: float = 0.0
    away: float = 30.0
    start: float | None = None
