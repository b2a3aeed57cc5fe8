"""How the embedded Bootstrap-Server is told to fail (pure data, read from files and scenarios).

A :class:`BootstrapFault` names one kind of failure of a real Bootstrap-Server, the
endpoints it hits (an ``fnmatch`` pattern) and how often (a probability; the draws are
seeded, :mod:`fleet.server.bootstrap.faults`):

- ``unauthorized``: the Bootstrap-Request is answered 4.01 Unauthorized;
- ``no-config``: answered 4.00 as if no configuration matched the endpoint;
- ``fail-write``: the first Bootstrap-Write carries a payload the device cannot decode;
- ``fail-finish``: every step is sent but Bootstrap-Finish never is;
- ``slow``: the server waits ``seconds`` before its first operation.

They live here, beside the configurations (:mod:`.configs`), because a
``--bootstrap-config`` file and a scenario's top-level ``bootstrap:`` section carry them
(``faults:`` and ``seed:``) and both readers sit below ``scenario/`` and ``server/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from fleet.client.bootstrap.configs import BootstrapConfigError

KINDS: Final = ("unauthorized", "no-config", "fail-write", "fail-finish", "slow")
REFUSALS: Final = frozenset({"unauthorized", "no-config"})


class BootstrapFaultError(BootstrapConfigError):
    """A bootstrap server fault that cannot be used (``path`` names the offending key)."""


@dataclass(frozen=True, slots=True)
class BootstrapFault:
    """One kind of failure for the endpoints matching ``endpoints``."""

    kind: str
    endpoints: str = "*"
    probability: float = 1.0
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise BootstrapFaultError(
                f"bootstrap server fault {self.kind!r} is not one of {', '.join(KINDS)}",
                key="kind",
            )
        if isinstance(self.probability, bool) or not 0.0 <= self.probability <= 1.0:
            raise BootstrapFaultError(
                f"probability must be between 0 and 1, got {self.probability!r}",
                key="probability",
            )
        if self.kind == "slow" and not self.seconds > 0:
            raise BootstrapFaultError("a slow bootstrap server needs seconds > 0", key="seconds")
        if self.kind != "slow" and self.seconds:
            raise BootstrapFaultError(
                f"seconds belongs to a slow fault, not {self.kind}", key="seconds"
            )
