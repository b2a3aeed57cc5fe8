"""What a fault is: frozen data read from a scenario's ``faults:`` entries, and its validation.

One entry (a mapping, as YAML gives it)::

    action: reject          # drop | delay | reject | corrupt | silence | reboot | flap
    code: "4.05"            # reject only: 4.00 4.01 4.03 4.04 4.05 4.06 4.15 5.00 5.03
    operations: [write]     # request faults: read write execute observe discover
                            #   create delete write-attributes (default: all)
    paths: ["/3442/0/*"]    # request faults: patterns, ``*`` matches one id
    devices: ["0-99", 250]  # device index ranges (default: all)
    fraction: 0.05          # of the selected devices, drawn per device (default 1)
    probability: 0.5        # per matching request (default 1)
    window: {start: 1m, end: 2m}        # from the run's start; or {phase: ramp, start: 10s}
                                        # or {start: 0, every: 10m, for: 1m} (recurring)
    delay: 5s               # delay only; ``jitter: 2s`` adds up to that much
    duration: 30s           # silence / flap / reboot: time away (silence: omitted = for good)

:func:`parse_fault` turns an entry into a :class:`Fault` (``FaultSpecError`` naming the
offending key); :func:`validate_fault` lists every problem as ``(key, message)`` pairs so the
scenario loader can point at file:line:col. Request faults (drop, delay, reject, corrupt) act
on requests from the server; device faults (silence, reboot, flap) start at the window's start.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Final

from fleet.client.events import Operation
from fleet.client.site import parse_code
from fleet.device.gen_base import GeneratorError
from fleet.device.gen_params import parse_duration
from fleet.errors import FleetError
from fleet.model.path import MAX_ID
from fleet.model.registry import ModelRegistry

REQUEST_ACTIONS: Final = frozenset({"drop", "delay", "reject", "corrupt"})
DEVICE_ACTIONS: Final = frozenset({"silence", "reboot", "flap"})
PLANNED_ACTIONS: Final = frozenset({"duplicate", "clock-skew", "deregister-storm"})
"""Named by the design, not implemented yet: a validation error says so."""
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
}
UPLINK_OPERATIONS: Final = frozenset({"register", "update"})
_KEYS: Final = frozenset(
    {
        "action", "code", "operations", "paths", "devices", "fraction", "probability",
        "window", "delay", "jitter", "duration", "name",
    }
)  # fmt: skip
_WINDOW_KEYS: Final = frozenset({"start", "end", "phase", "every", "for"})


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

    def starts(self, phase_start: float, horizon: float) -> list[float]:
        """Run times the window opens, up to ``horizon`` (device faults fire there)."""
        first = phase_start + self.start
        if self.every is None:
            return [first] if first < min(horizon, phase_start + self.end) else []
        out: list[float] = []
        t = first
        while t < min(horizon, phase_start + self.end) and len(out) < 10_000:
            out.append(t)
            t += self.every
        return out


@dataclass(frozen=True, slots=True)
class Fault:
    """One parsed fault entry (see the module docstring)."""

    action: str
    code: str | None = None
    operations: frozenset[Operation] | None = None
    """``None``: every operation."""
    paths: tuple[tuple[int | None, ...], ...] = ()
    """Patterns, ``None`` for ``*``; empty: every path."""
    devices: tuple[tuple[int, int], ...] = ()
    """Inclusive index ranges; empty: every device."""
    fraction: float = 1.0
    probability: float = 1.0
    window: Window = Window()
    delay: float = 0.0
    jitter: float = 0.0
    duration: float | None = None
    name: str = ""

    @property
    def per_request(self) -> bool:
        return self.action in REQUEST_ACTIONS

    def covers_index(self, index: int) -> bool:
        return not self.devices or any(lo <= index <= hi for lo, hi in self.devices)

    def matches(self, operation: Operation, path: tuple[int, ...] | None) -> bool:
        """Whether a request (``path`` ``None``: not an LwM2M path) is one this fault hits."""
        if self.operations is not None and operation not in self.operations:
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
    def from_specs(
        cls, specs: list[Mapping[str, object]], registry: ModelRegistry | None = None
    ) -> FaultPlan:
        """Parse entries; the first problem raises :class:`FaultSpecError` (``faults[i].key``)."""
        faults = []
        for i, spec in enumerate(specs):
            problems = validate_fault(spec, registry) if registry is not None else []
            if problems:
                key, message = problems[0]
                raise FaultSpecError(f"faults[{i}].{key}", message)
            try:
                faults.append(parse_fault(spec))
            except FaultSpecError as error:
                raise FaultSpecError(f"faults[{i}].{error.key}", error.message) from None
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


def parse_path_pattern(text: object) -> tuple[int | None, ...]:
    """``"/3442/0/*"`` -> ``(3442, 0, None)``; ``ValueError`` when it is not one."""
    if not isinstance(text, str) or not text.startswith("/"):
        raise ValueError(f"{text!r} is not a path pattern like /3442/0/*")
    body = text[1:].rstrip("/")
    if not body:
        return ()
    out: list[int | None] = []
    for segment in body.split("/"):
        if segment == "*":
            out.append(None)
        elif segment.isdigit() and (segment == "0" or segment[0] != "0"):
            if int(segment) > MAX_ID:
                raise ValueError(f"{text!r}: {segment} is beyond the largest id {MAX_ID}")
            out.append(int(segment))
        else:
            raise ValueError(f"{text!r}: {segment!r} is neither an id nor *")
    if len(out) > 4:
        raise ValueError(f"{text!r}: an LwM2M path has at most 4 levels")
    return tuple(out)


def _duration(spec: Mapping[str, object], key: str, default: float | None) -> float | None:
    value = spec.get(key)
    if value is None:
        return default
    try:
        seconds = parse_duration(value)
    except GeneratorError as error:
        raise FaultSpecError(key, error.message) from None
    if seconds < 0:
        raise FaultSpecError(key, "cannot be negative")
    return seconds


def _share(spec: Mapping[str, object], key: str) -> float:
    value = spec.get(key, 1.0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise FaultSpecError(key, f"expected a number from 0 to 1, got {value!r}")
    return float(value)


def _ranges(value: object) -> tuple[tuple[int, int], ...]:
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool) and item >= 0:
            out.append((item, item))
            continue
        text = str(item)
        lo, dash, hi = text.partition("-")
        if not (dash and lo.strip().isdigit() and hi.strip().isdigit()):
            raise FaultSpecError("devices", f"{item!r} is not an index or a range like 0-99")
        if int(lo) > int(hi):
            raise FaultSpecError("devices", f"{item!r}: the range is empty")
        out.append((int(lo), int(hi)))
    return tuple(out)


def _window(value: object) -> Window:
    if value is None:
        return Window()
    if not isinstance(value, Mapping):
        raise FaultSpecError("window", "expected a mapping like {start: 1m, end: 2m}")
    unknown = sorted(str(k) for k in value if k not in _WINDOW_KEYS)
    if unknown:
        raise FaultSpecError(f"window.{unknown[0]}", "unknown key")
    start = _duration(value, "start", 0.0) or 0.0
    end = _duration(value, "end", math.inf)
    every = _duration(value, "every", None)
    for_s = _duration(value, "for", None)
    phase = value.get("phase")
    if phase is not None and not isinstance(phase, str):
        raise FaultSpecError("window.phase", "expected a phase name")
    if end is not None and end <= start:
        raise FaultSpecError("window.end", "must be after window.start")
    if every is not None and every <= 0:
        raise FaultSpecError("window.every", "must be positive")
    if for_s is not None and (every is None or for_s > every):
        raise FaultSpecError("window.for", "needs window.every and must not exceed it")
    return Window(start, math.inf if end is None else end, phase, every, for_s)


def parse_fault(spec: Mapping[str, object]) -> Fault:
    """One entry -> a :class:`Fault` (model-free checks; :func:`validate_fault` does the rest)."""
    unknown = sorted(str(k) for k in spec if k not in _KEYS)
    if unknown:
        raise FaultSpecError(unknown[0], f"unknown key (known: {', '.join(sorted(_KEYS))})")
    action = spec.get("action")
    if action in PLANNED_ACTIONS:
        raise FaultSpecError("action", f"{action} is not implemented yet")
    if action not in REQUEST_ACTIONS | DEVICE_ACTIONS:
        known = ", ".join(sorted(REQUEST_ACTIONS | DEVICE_ACTIONS))
        raise FaultSpecError("action", f"expected one of {known}, got {action!r}")
    assert isinstance(action, str)
    code = spec.get("code")
    if action == "reject":
        if code is None:
            raise FaultSpecError("code", "reject needs a code")
        code = str(code) if not isinstance(code, float) else f"{code:.2f}"
        if code not in REJECT_CODES:
            raise FaultSpecError("code", f"expected one of {' '.join(REJECT_CODES)}, got {code}")
        parse_code(code)
    elif code is not None:
        raise FaultSpecError("code", f"only reject takes a code, not {action}")
    operations: frozenset[Operation] | None = None
    paths: tuple[tuple[int | None, ...], ...] = ()
    if action in DEVICE_ACTIONS:
        for key in ("operations", "paths", "probability", "delay", "jitter"):
            if key in spec:
                raise FaultSpecError(key, f"{action} acts on the whole device, not on requests")
    else:
        operations = _operations(spec.get("operations"))
        raw_paths = spec.get("paths", [])
        if isinstance(raw_paths, str):
            raw_paths = [raw_paths]
        if not isinstance(raw_paths, list):
            raise FaultSpecError("paths", "expected a list of path patterns")
        try:
            paths = tuple(parse_path_pattern(p) for p in raw_paths)
        except ValueError as error:
            raise FaultSpecError("paths", str(error)) from None
    delay = _duration(spec, "delay", 0.0) or 0.0
    jitter = _duration(spec, "jitter", 0.0) or 0.0
    if action == "delay" and delay + jitter <= 0:
        raise FaultSpecError("delay", "delay needs a positive delay (or jitter)")
    if action != "delay" and ("delay" in spec or "jitter" in spec):
        raise FaultSpecError("delay" if "delay" in spec else "jitter", "only for delay")
    duration = _duration(spec, "duration", None)
    if action in ("reboot", "flap") and duration is None:
        raise FaultSpecError("duration", f"{action} needs a duration (time away)")
    if action in REQUEST_ACTIONS and duration is not None:
        raise FaultSpecError("duration", f"{action} acts per request; use window instead")
    name = spec.get("name", "")
    return Fault(
        action=action,
        code=code if isinstance(code, str) else None,
        operations=operations,
        paths=paths,
        devices=_ranges(spec["devices"]) if "devices" in spec else (),
        fraction=_share(spec, "fraction"),
        probability=_share(spec, "probability"),
        window=_window(spec.get("window")),
        delay=delay,
        jitter=jitter,
        duration=duration,
        name=str(name),
    )


def _operations(value: object) -> frozenset[Operation] | None:
    if value is None:
        return None
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names:
        raise FaultSpecError("operations", "expected a list of operation names")
    out: set[Operation] = set()
    for name in names:
        if name in UPLINK_OPERATIONS:
            raise FaultSpecError(
                "operations", f"{name} faults (uplink) are not implemented yet; use silence"
            )
        if name not in OPERATIONS:
            known = ", ".join(sorted(OPERATIONS))
            raise FaultSpecError("operations", f"expected one of {known}, got {name!r}")
        out |= OPERATIONS[str(name)]
    return frozenset(out)


def validate_fault(
    spec: Mapping[str, object],
    registry: ModelRegistry,
    phases: Collection[str] | None = None,
) -> list[tuple[str, str]]:
    """Every problem of one entry as ``(key, message)``; empty when it can be used.

    Beyond :func:`parse_fault`: each concrete path's object and resource exist in
    ``registry`` and suit the operations (Execute on an executable resource, Create on
    an object, Delete on an instance...); a window's phase is one of ``phases`` (if given).
    """
    try:
        fault = parse_fault(spec)
    except FaultSpecError as error:
        return [(error.key, error.message)]
    problems: list[tuple[str, str]] = []
    if phases is not None and fault.window.phase is not None and fault.window.phase not in phases:
        problems.append(("window.phase", f"no phase named {fault.window.phase!r}"))
    for pattern in fault.paths:
        problem = _path_problem(pattern, fault.operations, registry)
        if problem is not None:
            problems.append(("paths", problem))
    return problems


def _path_problem(
    pattern: tuple[int | None, ...],
    operations: frozenset[Operation] | None,
    registry: ModelRegistry,
) -> str | None:
    shown = "/" + "/".join("*" if p is None else str(p) for p in pattern)
    ops = operations or frozenset()
    levels = len(pattern)
    wildcard_tail = bool(pattern) and pattern[-1] is None
    if Operation.CREATE in ops and levels != 1:
        return f"{shown}: Create targets an object (like /3442)"
    if Operation.DELETE in ops and not (levels == 2 or (levels == 1 and wildcard_tail)):
        return f"{shown}: Delete targets an object instance (like /3442/0)"
    if Operation.EXECUTE in ops and levels not in (3,) and not wildcard_tail:
        return f"{shown}: Execute targets a resource (like /3/0/4)"
    if not pattern or pattern[0] is None:
        return None
    if pattern[0] not in registry:
        return f"{shown}: no object {pattern[0]} is defined"
    model = registry.get(pattern[0])
    if levels < 3 or pattern[2] is None:
        return None
    resource = model.resources.get(pattern[2])
    if resource is None:
        return f"{shown}: object {model.id} ({model.name}) has no resource {pattern[2]}"
    if Operation.EXECUTE in ops and not resource.executable:
        return f"{shown}: {resource.name} is not executable"
    reads = ops & (OPERATIONS["read"] | OPERATIONS["observe"])
    if reads and not resource.readable and not (ops - reads - OPERATIONS["execute"]):
        return f"{shown}: {resource.name} cannot be read"
    if ops & OPERATIONS["write"] and not resource.writable and ops <= OPERATIONS["write"]:
        return f"{shown}: {resource.name} cannot be written"
    if levels == 4 and not resource.multiple:
        return f"{shown}: {resource.name} has no instances"
    return None
