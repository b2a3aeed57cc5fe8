"""The rules of a fault entry, in one place: parsing and every check, as ``(key, message)``.

:func:`read_fault` turns one entry (a mapping as YAML gives it, or as the scenario's
declared record checked it: absent keys may be ``None``) into a :class:`~fleet.faults.plan.Fault`
plus the list of problems, each ``(key, message)`` with ``key`` a dotted key path inside
the entry (``code``, ``paths.1``, ``window.phase``) so the scenario loader points at
file:line:col. What it knows beyond the entry comes from a :class:`FaultEnv`: the object
models (paths and operations that cannot apply), the phases (a window's phase), the
groups (a ``groups:`` selector), the fleet size (index ranges), whether the server speaks
DTLS, and the run's length (a window that opens after the run).

The token parsers (:mod:`fleet.faults.tokens`: :func:`parse_code_text`, :func:`parse_path_pattern`,
:func:`parse_index_range`, :func:`parse_signed_duration`) are also what the scenario's
JSON-Schema-described kinds call, so the file format and these rules cannot drift.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from typing import Final, TypeVar

from fleet.client.events import Operation
from fleet.faults.plan import (
    ACTIONS,
    BOOTSTRAP_FINISH_ACTIONS,
    DEVICE_ACTIONS,
    FIRMWARE_ACTIONS,
    OPERATION_NAMES,
    OPERATIONS,
    REJECT_CODES,
    REQUEST_ACTIONS,
    SECURE_ACTIONS,
    UPLINK_ACTIONS,
    UPLINK_OPERATIONS,
    Fault,
    FaultSpecError,
    IndexRange,
    Window,
    show_pattern,
)
from fleet.faults.tokens import (
    duration_seconds,
    parse_code_text,
    parse_index_range,
    parse_path_pattern,
    parse_signed_duration,
)
from fleet.model.registry import ModelRegistry

KEYS: Final = (
    "action", "name", "code", "operations", "paths", "groups", "devices", "fraction",
    "probability", "window", "delay", "jitter", "duration", "spread", "skew", "at",
)  # fmt: skip
WINDOW_KEYS: Final = ("start", "end", "phase", "every", "for")
_REQUEST_ONLY: Final = ("operations", "paths", "probability")
_DURATION_ACTIONS: Final = {"silence": False, "deregister": False, "reboot": True, "flap": True}
"""Device actions taking ``duration`` -> whether they need one."""

Problem = tuple[str, str]
_T = TypeVar("_T")


@dataclass(frozen=True)
class FaultEnv:
    """What the checks know beyond the entry (``None``: not known, not checked)."""

    registry: ModelRegistry | None = None
    phases: Mapping[str, tuple[float, float]] | Collection[str] | None = None
    """Phase names, or names -> (start, end) run seconds (then windows are resolved)."""
    groups: Mapping[str, IndexRange] | None = None
    device_count: int | None = None
    secure: bool | None = None
    run_end: float | None = None


# -- reading one entry ---------------------------------------------------------------------------


class _Reader:
    """Reads an entry key by key, collecting every problem."""

    def __init__(self, spec: Mapping[str, object]) -> None:
        self.spec = {str(k): v for k, v in spec.items() if v is not None}
        self.problems: list[Problem] = []

    def say(self, key: str, message: str) -> None:
        self.problems.append((key, message))

    def get(self, key: str, parse: Callable[[object], _T], default: _T) -> _T:
        if key not in self.spec:
            return default
        try:
            return parse(self.spec[key])
        except ValueError as error:
            self.say(key, str(error))
            return default

    def items(self, key: str, parse: Callable[[object], _T]) -> list[_T]:
        value = self.spec.get(key)
        if value is None:
            return []
        values = value if isinstance(value, list) else [value]
        out = []
        for i, item in enumerate(values):
            try:
                out.append(parse(item))
            except ValueError as error:
                self.say(f"{key}.{i}" if isinstance(value, list) else key, str(error))
        return out


def _share(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise ValueError(f"expected a number from 0 to 1, got {value!r}")
    return float(value)


def read_fault(spec: Mapping[str, object], env: FaultEnv) -> tuple[Fault | None, list[Problem]]:
    """One entry -> its :class:`Fault` (``None`` if unusable) and every problem found."""
    r = _Reader(spec)
    for key in r.spec:
        if key not in KEYS:
            r.say(key, f"unknown key (known: {', '.join(KEYS)})")
    action = r.spec.get("action")
    if action not in ACTIONS:
        r.say("action", f"expected one of {', '.join(ACTIONS)}, got {action!r}")
        return None, r.problems
    assert isinstance(action, str)
    device_action = action in DEVICE_ACTIONS or action in FIRMWARE_ACTIONS
    code = r.get("code", parse_code_text, None)
    if action == "reject" and code is None and "code" not in r.spec:
        r.say("code", "reject needs a code (one of " + " ".join(REJECT_CODES) + ")")
    elif action != "reject" and "code" in r.spec:
        r.say("code", f"only reject takes a code, not {action}")
    for key in _REQUEST_ONLY:
        if device_action and key in r.spec:
            r.say(key, f"{action} acts on the whole device, not on requests")
    names = r.items("operations", _operation_name)
    operations, uplink = _split_operations(names, "operations" in r.spec)
    if uplink and action not in UPLINK_ACTIONS:
        r.say("operations", f"register/update/deregister (the device's own requests) take "
              f"drop, delay or reject, not {action}")  # fmt: skip
    finish = operations is not None and Operation.BOOTSTRAP_FINISH in operations
    if finish and action not in BOOTSTRAP_FINISH_ACTIONS:
        r.say("operations", f"bootstrap-finish (the device ignoring, delaying or refusing its "
              f"Finish) takes drop, delay or reject, not {action}")  # fmt: skip
    paths = tuple(r.items("paths", parse_path_pattern))
    if paths and finish:
        r.say("paths", "bootstrap-finish is POST /bs: it has no object path")
    if paths and operations is not None and not operations:
        r.say("paths", "paths select server requests; register/update have none")
    _timing(r, action)
    _firmware(r, action)
    window = _window(r)
    fault = Fault(
        action=action,
        code=code,
        operations=operations,
        uplink=uplink,
        paths=paths,
        devices=tuple(r.items("devices", parse_index_range)),
        groups=tuple(r.items("groups", _group_name)),
        fraction=r.get("fraction", _share, 1.0),
        probability=r.get("probability", _share, 1.0),
        window=window,
        delay=r.get("delay", duration_seconds, 0.0),
        jitter=r.get("jitter", duration_seconds, 0.0),
        duration=r.get("duration", duration_seconds, None),
        spread=r.get("spread", duration_seconds, 0.0),
        skew=r.get("skew", parse_signed_duration, 0.0),
        at=r.get("at", _lose_share, 0.5),
        name=str(r.spec.get("name", "")),
        phase=window.phase,
    )
    fault = _in_context(r, fault, env)
    return (None if r.problems else fault), r.problems


def _operation_name(value: object) -> str:
    if value not in OPERATION_NAMES:
        raise ValueError(f"expected one of {', '.join(OPERATION_NAMES)}, got {value!r}")
    return str(value)


def _group_name(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected a group name, got {value!r}")
    return value


def _split_operations(
    names: list[str], given: bool
) -> tuple[frozenset[Operation] | None, frozenset[str]]:
    uplink = frozenset(n for n in names if n in UPLINK_OPERATIONS)
    served = [n for n in names if n in OPERATIONS]
    if not given:
        return None, uplink
    ops: set[Operation] = set()
    for name in served:
        ops |= OPERATIONS[name]
    return frozenset(ops), uplink


def _timing(r: _Reader, action: str) -> None:
    """Which action takes delay/jitter/duration/spread/skew, and which needs it."""
    spec = r.spec
    for key in ("delay", "jitter"):
        if key in spec and action != "delay":
            r.say(key, f"only delay takes {key}, not {action}")
    if action == "delay" and "delay" not in spec and "jitter" not in spec:
        r.say("delay", "delay needs a positive delay: (and optionally jitter:)")
    if action == "delay" and "delay" in spec and "jitter" not in spec and spec["delay"] in (0, 0.0):
        r.say("delay", "a delay of 0 delays nothing")
    needs = _DURATION_ACTIONS.get(action)
    if needs is None and "duration" in spec:
        why = "acts per request; use window: to bound it" if action in REQUEST_ACTIONS else ""
        r.say("duration", f"{action} takes no duration" + (f" ({why})" if why else ""))
    if needs and "duration" not in spec:
        r.say("duration", f"{action} needs a duration (how long the device is away)")
    if "spread" in spec and action in REQUEST_ACTIONS:
        r.say("spread", f"{action} acts per request; spread is for device actions")
    if action == "clock-skew" and "skew" not in spec:
        r.say("skew", "clock-skew needs skew: (like 1h or -90s)")
    elif action != "clock-skew" and "skew" in spec:
        r.say("skew", f"only clock-skew takes skew, not {action}")


def _firmware(r: _Reader, action: str) -> None:
    """Firmware and software actions last the whole run; only their -lose takes ``at``."""
    if action in FIRMWARE_ACTIONS:
        for key in ("window", "spread"):
            if key in r.spec:
                r.say(key, f"{action} holds for the whole run (it takes no {key})")
    if "at" in r.spec and action not in ("firmware-lose", "software-lose"):
        r.say("at", f"only firmware-lose and software-lose take at, not {action}")


def _lose_share(value: object) -> float:
    share = _share(value)
    if share >= 1:
        raise ValueError(
            f"expected a share below 1 (the download is lost before its end), got {value!r}"
        )
    return share


def _window(r: _Reader) -> Window:
    value = r.spec.get("window")
    if value is None:
        return Window()
    if not isinstance(value, Mapping):
        r.say("window", "expected a mapping like {start: 1m, end: 2m}")
        return Window()
    w = _Reader(value)
    for key in w.spec:
        if key not in WINDOW_KEYS:
            w.say(key, f"unknown key (known: {', '.join(WINDOW_KEYS)})")
    start = w.get("start", duration_seconds, 0.0)
    end = w.get("end", duration_seconds, math.inf)
    every = w.get("every", duration_seconds, None)
    for_s = w.get("for", duration_seconds, None)
    phase = w.get("phase", _phase_name, None)
    if end <= start:
        w.say("end", "must be after window.start")
    if every is not None and every <= 0:
        w.say("every", "must be longer than 0 s")
    if for_s is not None and (every is None or for_s > every):
        w.say("for", "needs window.every and must not exceed it")
    r.problems.extend((f"window.{key}", message) for key, message in w.problems)
    return Window(start, end, phase, every, for_s)


def _phase_name(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"expected a phase name or index, got {value!r}")
    return str(value)


# -- checks that need the surroundings ---------------------------------------------------------


def _in_context(r: _Reader, fault: Fault, env: FaultEnv) -> Fault:
    """Model, phase, group, fleet-size, security and run-length checks; resolves windows."""
    if env.registry is not None:
        for i, pattern in enumerate(fault.paths):
            problem = _path_problem(pattern, fault.operations, env.registry)
            if problem is not None:
                listed = isinstance(r.spec.get("paths"), list)
                r.say(f"paths.{i}" if listed else "paths", problem)
    count = env.device_count
    if count is not None:
        for i, (lo, hi) in enumerate(fault.devices):
            if hi >= count:
                shown = str(lo) if lo == hi else f"{lo}-{hi}"
                where = f"devices.{i}" if isinstance(r.spec.get("devices"), list) else "devices"
                r.say(where, f"{shown} goes beyond the fleet's last device {count - 1}")
    if env.groups is not None and fault.groups:
        ranges = []
        for i, name in enumerate(fault.groups):
            found = env.groups.get(name)
            if found is None:
                known = ", ".join(env.groups) or "none has a name"
                where = f"groups.{i}" if isinstance(r.spec.get("groups"), list) else "groups"
                r.say(where, f"no group named {name!r} (groups: {known})")
            else:
                ranges.append(found)
        fault = replace(fault, group_ranges=tuple(ranges))
    if fault.action in SECURE_ACTIONS and env.secure is False:
        r.say("action", f"{fault.action} needs DTLS: the server is not coaps://")
    window = fault.window
    if window.phase is not None and env.phases is not None:
        if window.phase not in env.phases:
            r.say("window.phase", f"no phase named {window.phase!r}")
        elif isinstance(env.phases, Mapping):
            start, end = env.phases[window.phase]
            if window.start >= end - start:
                r.say("window.start", f"phase {window.phase!r} lasts only {end - start:g} s")
            fault = replace(fault, window=window.resolved(start, end))
    opens = fault.window.start
    if env.run_end is not None and window.phase is None and opens >= env.run_end:
        r.say("window.start", f"opens at {opens:g} s, when the run ({env.run_end:g} s) is over")
    return fault


def _path_problem(
    pattern: tuple[int | None, ...],
    operations: frozenset[Operation] | None,
    registry: ModelRegistry,
) -> str | None:
    shown = show_pattern(pattern)
    ops = operations or frozenset()
    levels = len(pattern)
    wildcard_tail = bool(pattern) and pattern[-1] is None
    if Operation.CREATE in ops and levels != 1:
        return f"{shown}: Create targets an object (like /3442)"
    if Operation.DELETE in ops and not (levels == 2 or (levels == 1 and wildcard_tail)):
        return f"{shown}: Delete targets an object instance (like /3442/0)"
    if Operation.EXECUTE in ops and levels != 3 and not wildcard_tail:
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


# -- the historical entry points -----------------------------------------------------------------


def parse_fault(spec: Mapping[str, object]) -> Fault:
    """One entry -> a :class:`Fault`; the first problem raises :class:`FaultSpecError`."""
    fault, problems = read_fault(spec, FaultEnv())
    if problems:
        raise FaultSpecError(*problems[0])
    assert fault is not None
    return fault


def validate_fault(
    spec: Mapping[str, object],
    registry: ModelRegistry,
    phases: Collection[str] | None = None,
) -> list[Problem]:
    """Every problem of one entry as ``(key, message)``; empty when it can be used."""
    return read_fault(spec, FaultEnv(registry, phases))[1]
