"""The scenario's ``faults:`` key: each entry declared for the schema, then checked in place.

:data:`FAULT` declares one entry with the kinds of :mod:`fleet.scenario.kinds` (so
``fleet schema`` describes it and unknown keys are refused with a suggestion); its
token kinds call the parsers of :mod:`fleet.faults.rules`. :func:`build_faults` then
runs the rules that need the whole scenario (:func:`fleet.faults.rules.read_fault`: the
object models, the phases, the groups, the fleet size, DTLS, the run's length), adds
what only the groups know (a path to an object no selected device has), resolves
phase windows to run time, and reports every problem with its file:line:col.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Final

from fleet.faults import ACTIONS, REJECT_CODES, Fault
from fleet.faults.plan import OPERATION_NAMES, show_pattern
from fleet.faults.rules import FaultEnv, read_fault
from fleet.faults.tokens import (
    parse_code_text,
    parse_index_range,
    parse_path_pattern,
    parse_signed_duration,
)
from fleet.model import ModelRegistry
from fleet.scenario.containers import Field, ListOf, Record
from fleet.scenario.durations import PATTERN
from fleet.scenario.kinds import INVALID, Choice, Context, Custom, Duration, Number, Text
from fleet.scenario.kinds import label as label_of
from fleet.scenario.model import Group
from fleet.scenario.phases import Phase
from fleet.scenario.problems import KeyPath


def _checked_by(parse: Callable[[object], object]) -> Callable[[object], object]:
    """A kind's parse that checks with ``parse`` and keeps the value as written."""

    def check(value: object) -> object:
        parse(value)
        return value

    return check


def _phase_ref(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"expected a phase name or index, got {value!r}")
    return value


_SIGNED_PATTERN: Final = "^\\s*-?" + PATTERN.removeprefix("^\\s*")

WINDOW: Final = Record(
    "fault window",
    "When the fault acts: from start to end (run time, or from a phase's start), "
    "optionally recurring every ... for ...",
    (
        Field("start", Duration(positive=False), "When it opens (default 0).", schema_default=0),
        Field("end", Duration(), "When it closes (default: the run's end, or the phase's)."),
        Field(
            "phase",
            Custom(_checked_by(_phase_ref), {"type": ["string", "integer"]}),
            "Count start and end from this phase's start (its name or index).",
        ),
        Field("every", Duration(), "Recurring: it opens again this often."),
        Field("for", Duration(), "Recurring: open this long each time (default: every)."),
    ),
)

FAULT: Final = Record(
    "fault",
    "A fault the devices inject: what (action), on whom (groups, devices, fraction), on "
    "which requests (operations, paths, probability) and when (window).",
    (
        Field("action", Choice(ACTIONS), "What the fault does.", required=True),
        Field("name", Text(), "A name for it in messages."),
        Field(
            "code",
            Custom(
                _checked_by(parse_code_text),
                {"enum": [*REJECT_CODES, *sorted({float(c) for c in REJECT_CODES})]},
            ),
            "reject: the code answered (4.00 4.01 4.03 4.04 4.05 4.06 4.15 5.00 5.03).",
        ),
        Field(
            "operations",
            ListOf(Choice(OPERATION_NAMES), single=True),
            "Request faults: the operations hit (default: every server request); register "
            "and update hit the device's own Register / Update.",
        ),
        Field(
            "paths",
            ListOf(
                Custom(
                    _checked_by(parse_path_pattern),
                    {"type": "string", "pattern": r"^/(\d+|\*)?(/(\d+|\*))*$"},
                ),
                single=True,
            ),
            "Request faults: path patterns (``*`` matches one id, or anything below at the end).",
        ),
        Field("groups", ListOf(Text(), single=True), "Only devices of these groups."),
        Field(
            "devices",
            ListOf(
                Custom(
                    _checked_by(parse_index_range),
                    {
                        "anyOf": [
                            {"type": "integer", "minimum": 0},
                            {"type": "string", "pattern": r"^\s*\d+\s*-\s*\d+\s*$"},
                        ]
                    },
                ),
                single=True,
            ),
            "Only these device indexes: 250 or ranges like 0-99.",
        ),
        Field(
            "fraction",
            Number(0, 1),
            "Share of the selected devices the fault hits (drawn per device).",
            schema_default=1,
        ),
        Field(
            "probability",
            Number(0, 1),
            "Request faults: chance each matching request is hit.",
            schema_default=1,
        ),
        Field("window", WINDOW, "When the fault acts (default: the whole run)."),
        Field("delay", Duration(), "delay: how long the answer waits."),
        Field("jitter", Duration(positive=False), "delay: up to this much more, at random."),
        Field(
            "duration",
            Duration(),
            "silence, deregister: how long before registering again (default: never); "
            "reboot, flap: how long the device is away.",
        ),
        Field(
            "spread",
            Duration(positive=False),
            "Device actions: each device acts at a random moment within this long after "
            "the window opens (0: all at once, a storm).",
            schema_default=0,
        ),
        Field(
            "skew",
            Custom(
                _checked_by(parse_signed_duration),
                {"anyOf": [{"type": "number"}, {"type": "string", "pattern": _SIGNED_PATTERN}]},
            ),
            "clock-skew: how far /3/0/13 Current Time moves (may be negative: -1h).",
        ),
        Field(
            "at",
            Number(0, 1),
            "firmware-lose, software-lose: the share of the download after which the link is "
            "lost (0..<1).",
            schema_default=0.5,
        ),
    ),
)


def build_faults(
    raw: object,
    ctx: Context,
    registry: ModelRegistry | None,
    phases: Sequence[Phase] | None,
    groups: Sequence[Group | None],
    *,
    duration: object = None,
    secure: bool | None = None,
) -> tuple[Fault, ...]:
    """Every fault entry of ``raw`` (the checked list), problems reported to ``ctx``.

    ``phases`` ``None``: some phase entries were unusable (phase references are not
    checked); ``duration`` is the run's (checked) duration; ``secure``: the server is
    coaps:// (``None``: not known).
    """
    if not isinstance(raw, list) or not raw:
        return ()
    known = [g for g in groups if g is not None]
    whole = len(known) == len(groups) and bool(known)
    env = FaultEnv(
        registry=registry,
        phases=None if phases is None else _phase_spans(phases),
        groups={g.name: (g.first_index, g.first_index + g.count - 1) for g in known},
        device_count=sum(g.count for g in known) if whole else None,
        secure=secure,
        run_end=float(duration) if isinstance(duration, int | float) else None,
    )
    faults: list[Fault] = []
    for index, entry in enumerate(raw):
        where: KeyPath = ("faults", index)
        if not isinstance(entry, dict) or _broken(entry):
            continue  # already reported by the declaration
        fault, problems = read_fault(entry, env)
        if fault is not None and whole:
            problems.extend(_objects_problems(fault, known, entry))
        for key, message in problems:
            at = (*where, *(int(p) if p.isdigit() else p for p in key.split(".")))
            ctx.error(at, f"{label_of(at)}: {message}")
        if fault is not None and not problems:
            faults.append(fault)
    return tuple(faults)


def _broken(entry: Mapping[str, object]) -> bool:
    for value in entry.values():
        if value is INVALID:
            return True
        if isinstance(value, list) and INVALID in value:
            return True
        if isinstance(value, dict) and _broken(value):
            return True
    return False


def _phase_spans(phases: Sequence[Phase]) -> dict[str, tuple[float, float]]:
    """Phase names and indexes -> (start, end) in run seconds."""
    spans: dict[str, tuple[float, float]] = {}
    elapsed = 0.0
    for position, phase in enumerate(phases):
        span = (elapsed, elapsed + phase.duration)
        spans[str(position)] = span
        if phase.name:
            spans.setdefault(phase.name, span)
        elapsed += phase.duration
    return spans


def _objects_problems(
    fault: Fault, groups: Sequence[Group], entry: Mapping[str, object]
) -> list[tuple[str, str]]:
    """A path to an object none of the selected devices has cannot apply."""
    covered = [g for g in groups if any(fault.covers_index(i) for i in _probe(g, fault))]
    if not covered:
        return [("devices" if fault.devices else "groups", "selects no device of the fleet")]
    problems = []
    listed = isinstance(entry.get("paths"), list)
    for i, pattern in enumerate(fault.paths):
        if not pattern or pattern[0] is None:
            continue
        if not any(pattern[0] in g.layout.objects for g in covered):
            names = ", ".join(g.name for g in covered)
            problems.append(
                (
                    f"paths.{i}" if listed else "paths",
                    f"{show_pattern(pattern)}: no selected device has object {pattern[0]} "
                    f"(groups: {names})",
                )
            )
    return problems


def _probe(group: Group, fault: Fault) -> list[int]:
    """Indexes of ``group`` worth testing against the fault's ranges (ends and range edges)."""
    first, last = group.first_index, group.first_index + group.count - 1
    points = {first, last}
    for lo, hi in (*fault.devices, *fault.group_ranges):
        points.update(p for p in (lo, hi) if first <= p <= last)
    return sorted(points)
