"""Fault injection: faults declared in a scenario, seeded, acting through the device's interceptor.

:mod:`fleet.faults.plan` is the data and its validation, :mod:`fleet.faults.injector` the
seeded injector that installs a plan on devices and counts what it injected.
"""

from fleet.faults.injector import FaultCounter, FaultInjector, Injected
from fleet.faults.plan import (
    REJECT_CODES,
    Fault,
    FaultPlan,
    FaultSpecError,
    Window,
    parse_fault,
    parse_path_pattern,
    validate_fault,
)

__all__ = [
    "REJECT_CODES",
    "Fault",
    "FaultCounter",
    "FaultInjector",
    "FaultPlan",
    "FaultSpecError",
    "Injected",
    "Window",
    "parse_fault",
    "parse_path_pattern",
    "validate_fault",
]
