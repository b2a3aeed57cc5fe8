"""Faults of the embedded Bootstrap-Server: how a real one fails a device, seeded and counted.

A :class:`BootstrapFaults` holds :class:`BootstrapFault` entries
(:mod:`fleet.client.bootstrap.server_faults`, where files and scenarios read them), each for the
endpoints matching its ``fnmatch`` pattern, firing with its probability (drawn
from a generator seeded with ``seed`` and the endpoint name, so a run replays):

- ``unauthorized``: the Bootstrap-Request is answered 4.01 Unauthorized;
- ``no-config``: answered 4.00 as if no configuration matched the endpoint;
- ``fail-write``: the first Bootstrap-Write carries a payload the device cannot
  decode (the device answers 4.00 and the session ends without Finish);
- ``fail-finish``: every step is sent but Bootstrap-Finish never is (the
  device's wait for Finish runs out);
- ``slow``: the server waits ``seconds`` before its first operation.

:attr:`BootstrapFaults.counts` says how often each fired.
"""

from __future__ import annotations

import fnmatch
import random
from collections import Counter
from dataclasses import dataclass, field

from fleet.client.bootstrap.server_faults import (
    KINDS,
    REFUSALS,
    BootstrapFault,
    BootstrapFaultError,
)

__all__ = ["KINDS", "REFUSALS", "BootstrapFault", "BootstrapFaultError", "BootstrapFaults"]


@dataclass(slots=True)
class BootstrapFaults:
    """The faults of one Bootstrap-Server (see the module docstring)."""

    faults: tuple[BootstrapFault, ...] = ()
    seed: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    _draws: Counter[tuple[str, str]] = field(default_factory=Counter, repr=False)

    def _fires(self, kind: str, endpoint: str) -> BootstrapFault | None:
        for fault in self.faults:
            if fault.kind != kind or not fnmatch.fnmatchcase(endpoint, fault.endpoints):
                continue
            if fault.probability < 1.0:
                nth = self._draws[(kind, endpoint)]
                self._draws[(kind, endpoint)] += 1
                # a string seed is hashed the same way in every process: the run replays
                if random.Random(f"{self.seed}:{kind}:{endpoint}:{nth}").random() >= (
                    fault.probability
                ):
                    continue
            self.counts[kind] += 1
            return fault
        return None

    def refusal(self, endpoint: str) -> str | None:
        """``unauthorized``, ``no-config`` or ``None`` for this Bootstrap-Request."""
        for kind in ("unauthorized", "no-config"):
            if self._fires(kind, endpoint) is not None:
                return kind
        return None

    def slow(self, endpoint: str) -> float:
        fault = self._fires("slow", endpoint)
        return 0.0 if fault is None else fault.seconds

    def failing_write(self, endpoint: str, index: int) -> bool:
        return index == 0 and self._fires("fail-write", endpoint) is not None

    def failing_finish(self, endpoint: str) -> bool:
        return self._fires("fail-finish", endpoint) is not None

    def fired(self) -> dict[str, int]:
        """How often each kind fired."""
        return {kind: self.counts[kind] for kind in KINDS if self.counts[kind]}
