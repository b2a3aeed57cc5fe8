"""What a fault is: the vocabulary of fault entries and the frozen :class:`Fault` they become.

One entry (a mapping, as a scenario's ``faults:`` list gives it)::

    action: reject          # see ACTIONS below
    code: "4.05"            # reject only: 4.00 4.01 4.03 4.04 4.05 4.06 4.15 5.00 5.03
    operations: [write]     # request faults: read write execute observe discover create
                            #   delete write-attributes (server requests, default: all of them)
                            #   register update deregister bootstrap (the device's own
                            #   uplink, bootstrap = Bootstrap-Request: drop/delay/reject)
                            #   bootstrap-finish (the Bootstrap-Server's Finish: drop =
                            #   the device ignores it; delay; reject answers a code)
    paths: ["/3442/0/*"]    # server requests: patterns, ``*`` matches one id (or what is below)
    groups: [meters]        # devices of these groups (default: every group)
    devices: ["0-99", 250]  # device index ranges (default: all)
    fraction: 0.05          # of the selected devices, drawn per device (default 1)
    probability: 0.5        # per matching request (default 1)
    window: {start: 1m, end: 2m}        # from the run's start; or {phase: ramp, start: 10s}
                                        # or {start: 0, every: 10m, for: 1m} (recurring)
    delay: 5s               # delay only; ``jitter: 2s`` adds up to that much
    duration: 30s           # silence / deregister (omitted: for good), reboot / flap (away)
    spread: 10s             # device actions: each device acts at a random moment this long
    skew: -1h               # clock-skew only: added to /3/0/13
    at: 0.5                 # firmware-lose / software-lose: share of the download, then lost

Request actions (:data:`REQUEST_ACTIONS`) act on requests; device actions
(:data:`DEVICE_ACTIONS`) act once on the device each time their window opens; firmware
actions (:data:`FIRMWARE_ACTIONS`) decide how the selected devices' firmware updates fail. The rules
an entry must follow live in :mod:`fleet.faults.rules` (the one place that knows them).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Final

from fleet.client.events import Operation
from fleet.errors import FleetError

REQUEST_ACTIONS: Final = ("drop", "delay", "reject", "corrupt", "duplicate")
DEVICE_ACTIONS: Final = (
    "silence", "reboot", "flap", "deregister", "reregister", "clock-skew", "lose-session",
    "handshake-storm",
)  # fmt: skip
FIRMWARE_ACTIONS: Final = (
    "firmware-hang", "firmware-integrity", "firmware-lose", "firmware-reject",
    "firmware-brick", "firmware-fail-update",
    "software-hang", "software-integrity", "software-lose", "software-reject",
    "software-fail-install",
)  # fmt: skip
"""What a device's firmware update does wrong (Object 5): set when the device is installed, for
the whole run (no window); see :data:`fleet.client.firmware.settings.FAULT_KINDS`. The
``software-*`` actions do the same to Object 9 Software Management
(:data:`~fleet.client.firmware.settings.SOFTWARE_FAULT_KINDS`)."""
ACTIONS: Final = REQUEST_ACTIONS + DEVICE_ACTIONS + FIRMWARE_ACTIONS
UPLINK_ACTIONS: Final = frozenset({"drop", "delay", "reject"})
"""What a fault can do to the device's own Register / Update."""
SECURE_ACTIONS: Final = frozenset({"lose-session", "handshake-storm"})
"""Actions that only make sense over DTLS (a coaps:// server)."""
REJECT_CODES: Final = ("4.00", "4.01", "4.03", "4.04", "4.05", "4.06", "4.15", "5.00", "5.03")
OPERATIONS: Final[Mapping[str, frozenset[Operation]]] = {
    "read": frozenset({Operation.READ, Operation.READ_COMPOSITE}),
    "write": frozenset({Operation.WRITE, Operation.WRITE_PARTIAL, Operation.WRITE_COMPOSITE}),
    "execute": frozenset({Operation.EXECUTE}),
    "observe": frozenset(
        {
            Operation.OBSERVE,
            Operation.OBSERVE_COMPOSITE,
            Operation.CANCEL_OBSERVATION,
            Operation.CANCEL_OBSERVE_COMPOSITE,
        }
    ),
    "discover": frozenset({Operation.DISCOVER}),
    "create": frozenset({Operation.CREATE}),
    "delete": frozenset({Operation.DELETE}),
    "write-attributes": frozenset({Operation.WRITE_ATTRIBUTES}),
    "bootstrap-finish": frozenset({Operation.BOOTSTRAP_FINISH}),
}
NAMED_ONLY: Final = frozenset({Operation.BOOTSTRAP_FINISH})
"""Requests a fault hits only when its ``operations`` name them (a fault on "every server
request" leaves the Bootstrap-Server's Finish alone)."""
BOOTSTRAP_FINISH_ACTIONS: Final = frozenset({"drop", "delay", "reject"})
"""What a device may do to its Bootstrap-Finish: ignore it (drop: no answer, nothing done),
answer it late, or refuse it with a code without acting on it."""
UPLINK_OPERATIONS: Final = ("register", "update", "deregister", "bootstrap")
"""The device's own uplink; ``bootstrap`` is its Bootstrap-Request (``/bs``)."""
OPERATION_NAMES: Final = (*OPERATIONS, *UPLINK_OPERATIONS)

IndexRange = tuple[int, int]
"""Inclusive device index range."""


class FaultSpecError(FleetError):
    """A fault entry that cannot be used; ``key`` names the offending entry key."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        self.message = message
        super().__init__(f"{key}: {message}")


@dataclass(frozen=True, slots=True)
class Window:
    """When a fault acts: ``[start, end)`` seconds from the run's (or ``phase``'s) start.

    With ``every``, the window recurs: active during ``for_s`` seconds of every ``every``
    seconds from ``start`` on (until ``end``).
    """

    start: float = 0.0
    end: float = math.inf
    phase: str | None = None
    every: float | None = None
    for_s: float | None = None

    def active(self, t: float, phase_start: float = 0.0) -> bool:
        """Whether the window is open ``t`` seconds after the run's start."""
        rel = t - phase_start - self.start
        if rel < 0 or t - phase_start >= self.end:
            return False
        if self.every is None:
            return True
        return rel % self.every < (self.for_s if self.for_s is not None else self.every)

    def next_start(self, phase_start: float, after: float, horizon: float) -> float | None:
        """The first run time at or after ``after`` the window opens (before ``horizon`` and
        its ``end``), or ``None``: device faults arm one such start at a time."""
        first = phase_start + self.start
        limit = min(horizon, phase_start + self.end)
        if self.every is None:
            return first if after <= first < limit else None
        count = max(0, math.ceil((after - first) / self.every))
        when = first + count * self.every
        if when < after:  # rounding
            when += self.every
        return when if when < limit else None

    def following(self, when: float, phase_start: float, horizon: float) -> float | None:
        """The start after the one at ``when`` (recurring windows; else ``None``)."""
        if self.every is None:
            return None
        return self.next_start(phase_start, when + self.every / 2, horizon)

    def resolved(self, phase_start: float, phase_end: float) -> Window:
        """This window in run time: a phase's window becomes an absolute one.

        Its ``start``/``end`` count from the phase's start; without ``end`` it closes
        when the phase ends. ``phase`` is kept as a label only.
        """
        end = phase_start + self.end if math.isfinite(self.end) else phase_end
        return replace(self, start=phase_start + self.start, end=end, phase=None)


@dataclass(frozen=True, slots=True)
class Fault:
    """One parsed fault entry (see the module docstring)."""

    action: str
    code: str | None = None
    operations: frozenset[Operation] | None = None
    """Server requests it hits; ``None``: every one; empty: none (uplink only)."""
    uplink: frozenset[str] = frozenset()
    """``register`` / ``update``: the device's own requests it hits."""
    paths: tuple[tuple[int | None, ...], ...] = ()
    """Patterns, ``None`` for ``*``; empty: every path."""
    devices: tuple[IndexRange, ...] = ()
    """Inclusive index ranges; empty: every device."""
    groups: tuple[str, ...] = ()
    """Group names (as written); ``group_ranges`` are their devices."""
    group_ranges: tuple[IndexRange, ...] = ()
    fraction: float = 1.0
    probability: float = 1.0
    window: Window = Window()
    delay: float = 0.0
    jitter: float = 0.0
    duration: float | None = None
    spread: float = 0.0
    skew: float = 0.0
    at: float = 0.5
    """``firmware-lose``: the share of the download after which the link is gone."""
    name: str = ""
    phase: str | None = None
    """The phase the window was written against (kept after :meth:`Window.resolved`)."""

    @property
    def per_request(self) -> bool:
        return self.action in REQUEST_ACTIONS

    @property
    def firmware(self) -> bool:
        """A firmware action (how the device's Object 5 update fails)."""
        return self.action in FIRMWARE_ACTIONS

    def covers_index(self, index: int) -> bool:
        if self.devices and not any(lo <= index <= hi for lo, hi in self.devices):
            return False
        return not self.groups or any(lo <= index <= hi for lo, hi in self.group_ranges)

    def matches(self, operation: Operation, path: tuple[int, ...] | None) -> bool:
        """Whether a request (``path`` ``None``: not an LwM2M path) is one this fault hits."""
        if self.operations is None:
            if operation in NAMED_ONLY:
                return False
        elif operation not in self.operations:
            return False
        if not self.paths:
            return True
        if path is None:
            return False
        return any(_path_matches(pattern, path) for pattern in self.paths)


@dataclass(frozen=True, slots=True)
class FaultPlan:
    """Every fault of a run, in declaration order."""

    faults: tuple[Fault, ...] = ()

    @classmethod
    def from_specs(cls, specs: list[Mapping[str, object]], registry: object = None) -> FaultPlan:
        """Parse entries; the first problem raises :class:`FaultSpecError` (``faults[i].key``).

        ``registry`` (a :class:`~fleet.model.ModelRegistry`) adds the model checks of
        :func:`~fleet.faults.rules.validate_fault`.
        """
        from fleet.faults.rules import FaultEnv, read_fault
        from fleet.model.registry import ModelRegistry

        env = FaultEnv(registry if isinstance(registry, ModelRegistry) else None)
        faults = []
        for i, spec in enumerate(specs):
            fault, problems = read_fault(spec, env)
            if problems:
                key, message = problems[0]
                raise FaultSpecError(f"faults[{i}].{key}", message)
            assert fault is not None
            faults.append(fault)
        return cls(tuple(faults))

    @property
    def phases(self) -> frozenset[str]:
        return frozenset(f.window.phase for f in self.faults if f.window.phase is not None)


def _path_matches(pattern: tuple[int | None, ...], path: tuple[int, ...]) -> bool:
    """A pattern matches a path of its length (or below it when it ends in ``*``)."""
    if len(path) < len(pattern):
        return False
    if len(path) > len(pattern) and (not pattern or pattern[-1] is not None):
        return False
    return all(p is None or p == q for p, q in zip(pattern, path, strict=False))


def show_pattern(pattern: tuple[int | None, ...]) -> str:
    return "/" + "/".join("*" if p is None else str(p) for p in pattern)
