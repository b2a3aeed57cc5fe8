"""A group's ``security:`` key: how its devices get DTLS pre-shared keys.

:data:`SECURITY` declares the key for :mod:`fleet.scenario.spec`;
:func:`build_security` turns the checked entry into a
:class:`~fleet.client.credentials.CredentialSource` (``None`` without one).
"""

from __future__ import annotations

from typing import Final

from fleet.client.credentials import CredentialSource
from fleet.scenario.group_context import GroupContext
from fleet.scenario.kinds import AnyValue

SECURITY: Final = AnyValue()


def build_security(
    g: GroupContext, raw: object, first_index: int, count: int
) -> CredentialSource | None:
    """The group's credential source; problems go to ``g.error``."""
    if raw is None:
        return None
    where = (*g.path, "security")
    g.error(where, "security: is not supported yet")
    return None
