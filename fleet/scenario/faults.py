"""The scenario's ``faults:`` key: fault entries checked in place, with file:line:col.

:data:`FAULT` declares one entry for :mod:`fleet.scenario.spec`;
:func:`build_faults` checks every entry against the object models, the
phases and the groups and returns the :class:`~fleet.faults.Fault` tuple.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from fleet.faults import Fault
from fleet.model import ModelRegistry
from fleet.scenario.kinds import AnyValue, Context
from fleet.scenario.model import Group
from fleet.scenario.phases import Phase

FAULT: Final = AnyValue()


def build_faults(
    raw: object,
    ctx: Context,
    registry: ModelRegistry | None,
    phases: Sequence[Phase],
    groups: Sequence[Group | None],
) -> tuple[Fault, ...]:
    """Every fault entry of ``raw`` (the checked list), problems reported to ``ctx``."""
    if raw:
        ctx.error(("faults",), "faults: is not supported yet")
    return ()
