"""Fault injection: faults declared in a scenario, seeded, acting through the device's seams.

:mod:`fleet.faults.plan` is the vocabulary and the frozen :class:`Fault`;
:mod:`fleet.faults.rules` the one place that knows what an entry may say (parsing and
every check, as ``(key, message)`` problems), with the token parsers of
:mod:`fleet.faults.tokens`; :mod:`fleet.faults.injector` the seeded
injector that installs faults on devices and counts what it injected.
"""

from fleet.faults.injector import FaultCounter, FaultInjector, Injected
from fleet.faults.plan import (
    ACTIONS,
    DEVICE_ACTIONS,
    REJECT_CODES,
    REQUEST_ACTIONS,
    Fault,
    FaultPlan,
    FaultSpecError,
    Window,
)
from fleet.faults.rules import FaultEnv, parse_fault, read_fault, validate_fault
from fleet.faults.tokens import parse_path_pattern

__all__ = [
    "ACTIONS",
    "DEVICE_ACTIONS",
    "REJECT_CODES",
    "REQUEST_ACTIONS",
    "Fault",
    "FaultCounter",
    "FaultEnv",
    "FaultInjector",
    "FaultPlan",
    "FaultSpecError",
    "Injected",
    "Window",
    "parse_fault",
    "parse_path_pattern",
    "read_fault",
    "validate_fault",
]
