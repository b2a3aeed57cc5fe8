"""Loading a scenario file: YAML -> checked, frozen :class:`~fleet.scenario.model.Scenario`.

:func:`load_scenario` reads the file, applies the overrides
(:mod:`fleet.scenario.overrides`), checks the document against the declared
format (:mod:`fleet.scenario.spec`), then what needs the object definitions
and the whole picture: groups against the models, endpoint names unique
across the fleet, phases able to bring the whole fleet in, thresholds, faults
(:mod:`fleet.scenario.faults`: paths, operations, groups, phases, index
ranges, DTLS; phase windows resolved to run time). Every
problem is collected and raised at once as
:class:`~fleet.scenario.problems.ScenarioErrors`, each ``file:line:col:``.

How phases and groups fit together: the groups say how many devices exist;
the phases say when they arrive (in device index order). Without phases,
every device arrives at the start. With phases, arrivals stop once the whole
fleet has arrived (later phases then only pass time), and phases that cannot
bring the whole fleet in are an error. The phases bring in
``floor(sum of their arrivals)`` devices, where a rate phase contributes
``duration * (arrivalRate + rampTo) / 2`` (``rampTo`` defaulting to
``arrivalRate``; fractions carry over to the next phase), a count phase
``arrivalCount`` and a pause nothing. The phases must also fit in the run
``duration`` when one is given.
"""

from __future__ import annotations

import math
import os
import pathlib
from collections.abc import Mapping, Sequence
from fractions import Fraction

from fleet.client.bootstrap.configs import BootstrapConfigs
from fleet.errors import FleetError, ScenarioError
from fleet.model import ModelRegistry
from fleet.model.ddf import build_registry, load_paths
from fleet.model.reading import MAX_SCENARIO_BYTES, FileTooLarge, describe_size, read_bounded
from fleet.scenario.durations import format_duration
from fleet.scenario.endpoints import PatternError, Range, check_pattern, find_clashes
from fleet.scenario.faults import build_faults
from fleet.scenario.group_context import raw_key
from fleet.scenario.groups import build_group
from fleet.scenario.kinds import INVALID, Context, label
from fleet.scenario.model import EmbeddedServer, Group, Scenario, ServerTarget
from fleet.scenario.overrides import Setting, apply_settings
from fleet.scenario.phases import Churn, CountPhase, PausePhase, Phase, RatePhase
from fleet.scenario.problems import KeyPath, Mark, Problems, ScenarioErrors
from fleet.scenario.spec import SCENARIO
from fleet.scenario.thresholds import Threshold, ThresholdError, parse_threshold
from fleet.scenario.yamlsource import load_document


def _exact(number: float) -> Fraction:
    """The decimal the user wrote (0.7 is 7/10, not the nearest binary float)."""
    return Fraction(number) if isinstance(number, int) else Fraction(repr(float(number)))


def _amount(phase: Phase) -> Fraction:
    if isinstance(phase, CountPhase):
        return Fraction(phase.arrival_count)
    if isinstance(phase, RatePhase):
        start = _exact(phase.arrival_rate)
        end = start if phase.ramp_to is None else _exact(phase.ramp_to)
        return _exact(phase.duration) * (start + end) / 2
    return Fraction(0)


def arrival_capacity(phases: Sequence[Phase]) -> int:
    """How many devices the phases can bring in (see the module docstring).

    The arrival integral is summed exactly over all phases (fractions carry
    from one phase to the next), as :mod:`fleet.runner.planning` does.
    """
    return math.floor(sum((_amount(phase) for phase in phases), Fraction(0)))


def load_scenario(
    file: str | os.PathLike[str],
    *,
    settings: Sequence[Setting] = (),
    objects_dirs: Sequence[pathlib.Path] = (),
) -> Scenario:
    """Read and check a scenario file; :class:`ScenarioErrors` lists every problem.

    ``settings`` come from :func:`~fleet.scenario.overrides.run_settings`;
    ``objects_dirs`` (``--objects``) are loaded after the file's ``objects``.
    """
    name = os.fspath(file)
    path = pathlib.Path(name)
    try:
        text = read_bounded(path, MAX_SCENARIO_BYTES).decode("utf-8")
    except UnicodeDecodeError:
        raise ScenarioErrors([ScenarioError("the file is not UTF-8 text", file=name)]) from None
    except FileTooLarge:
        limit = describe_size(MAX_SCENARIO_BYTES)
        raise ScenarioErrors(
            [ScenarioError(f"the file is larger than {limit} (the limit)", file=name)]
        ) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ScenarioErrors(
            [ScenarioError(f"cannot read the file: {reason}", file=name)]
        ) from None
    return load_scenario_text(
        text, file=name, base_dir=path.parent, settings=settings, objects_dirs=objects_dirs
    )


def load_scenario_text(
    text: str,
    *,
    file: str = "<scenario>",
    base_dir: pathlib.Path | None = None,
    settings: Sequence[Setting] = (),
    objects_dirs: Sequence[pathlib.Path] = (),
) -> Scenario:
    """Like :func:`load_scenario` for text; relative paths resolve under ``base_dir``."""
    base = (base_dir if base_dir is not None else pathlib.Path.cwd()).absolute()
    document = load_document(text, file)
    data = document.data
    start = Mark(file, 1, 1)
    if data is None:
        raise ScenarioErrors(
            [start.error("the file is empty: a scenario needs at least version: 1 and groups:")]
        )
    if not isinstance(data, dict):
        raise ScenarioErrors(
            [start.error("a scenario is a mapping of keys (version:, groups:, ...)")]
        )
    problems = Problems()
    problems.extend(document.errors)
    apply_settings(data, document.source, settings, problems)
    ctx = Context(document.source, problems)
    checked = SCENARIO.check(data, (), ctx)
    assert isinstance(checked, dict)
    registry, dirs = _registry(checked.get("objects"), base, objects_dirs, ctx)
    groups = _groups(checked.get("groups"), registry, ctx, base)
    phases = _phases(checked.get("phases"), ctx)
    _fit(checked, phases, ctx)
    churn = _churn(checked.get("churn"), checked.get("duration"), ctx)
    found = _thresholds(checked.get("thresholds"), ctx)
    _security_fits(checked, groups, ctx)
    server = checked.get("server")
    faults = build_faults(
        checked.get("faults"),
        ctx,
        registry,
        phases if _all_phases(checked.get("phases"), phases) else None,
        groups or [],
        duration=checked.get("duration"),
        secure=server.scheme == "coaps" if isinstance(server, ServerTarget) else None,
    )
    embedded = _embedded_server(checked.get("embedded_server"), ctx)
    problems.raise_if_any()
    server, seed, duration = checked["server"], checked["seed"], checked["duration"]
    bootstrap = checked.get("bootstrap")
    assert isinstance(server, ServerTarget) and isinstance(seed, int) and registry is not None
    assert isinstance(groups, list) and isinstance(phases, list)
    return Scenario(
        source=file,
        server=server,
        seed=seed,
        duration=float(duration) if isinstance(duration, int | float) else None,
        groups=tuple(g for g in groups if g is not None),
        phases=tuple(phases),
        churn=churn,
        thresholds=tuple(found),
        objects_dirs=tuple(dirs),
        description=str(checked.get("description") or ""),
        registry=registry,
        faults=faults,
        bootstrap=bootstrap if isinstance(bootstrap, BootstrapConfigs) else None,
        embedded_server=embedded,
    )


def _embedded_server(checked: object, ctx: Context) -> EmbeddedServer:
    """``embedded_server:`` with the place of each rule (judged by the commands that know
    the server's language: :meth:`EmbeddedServer.problems`)."""
    if not isinstance(checked, dict):
        return EmbeddedServer()
    listed = checked.get("on_register")
    rules = listed if isinstance(listed, list) else []
    texts = tuple(rule for rule in rules if isinstance(rule, str))
    marks = tuple(
        ctx.source.value(("embedded_server", "on_register", index)) for index in range(len(texts))
    )
    concurrency = checked.get("concurrency")
    return EmbeddedServer(texts, concurrency if isinstance(concurrency, int) else None, marks)


def _registry(
    listed: object, base: pathlib.Path, extra: Sequence[pathlib.Path], ctx: Context
) -> tuple[ModelRegistry | None, list[pathlib.Path]]:
    """Shipped objects + the file's ``objects`` + ``--objects``; None if any folder failed."""
    wanted: list[tuple[pathlib.Path, Mark]] = []
    if isinstance(listed, list):
        for index, item in enumerate(listed):
            if isinstance(item, str):
                folder = pathlib.Path(item).expanduser()
                folder = folder if folder.is_absolute() else base / folder
                wanted.append((folder, ctx.source.value(("objects", index))))
    wanted.extend((pathlib.Path(p), Mark(item=f"--objects {p}")) for p in extra)
    ok = listed is not INVALID
    for folder, mark in wanted:
        if not folder.exists():
            ctx.problems.add(mark, f"object definitions folder {str(folder)!r} does not exist")
            ok = False
            continue
        for failure in load_paths([folder]).failures:
            ctx.problems.add(mark, f"cannot load object definitions: {failure}")
            ok = False
    if not ok:
        return None, []
    dirs = [folder for folder, _ in wanted]
    try:
        return build_registry(dirs), dirs
    except FleetError as exc:  # pragma: no cover - every failure was reported above
        ctx.problems.add(Mark(), str(exc))
        return None, []


MAX_GROUPS = 10_000
"""Groups in one scenario (each compiles its object tree once; a group has any count)."""


def _groups(
    raw: object, registry: ModelRegistry | None, ctx: Context, base: pathlib.Path
) -> list[Group | None]:
    if not isinstance(raw, list):
        return []
    if len(raw) > MAX_GROUPS:
        ctx.error(
            ("groups",),
            f"{len(raw)} groups are more than {MAX_GROUPS} (the limit): many devices of one"
            " kind are one group with a count:",
        )
        return []
    built: list[Group | None] = []
    ranges: list[Range] = []
    names: dict[str, int] = {}
    first = 0
    counts_ok = True
    for position, item in enumerate(raw):
        path: KeyPath = ("groups", position)
        if not isinstance(item, dict):
            built.append(None)
            counts_ok = False
            continue
        built.append(build_group(item, path, position, first, registry, ctx, base))
        name = item.get("name")
        if isinstance(name, str):
            if name in names:
                ctx.error(
                    (*path, "name"), f"group name {name!r} is already used by groups.{names[name]}"
                )
            names.setdefault(name, position)
        count, pattern = item.get("count"), item.get("endpoint")
        if not isinstance(count, int):
            counts_ok = False
            continue
        if isinstance(pattern, str) and _pattern_ok(pattern, count):
            ranges.append(Range(position, pattern, first, count))
        first += count
    if counts_ok:
        for clash in find_clashes(ranges):
            where: KeyPath = ("groups", clash.group, "endpoint")
            if clash.group == clash.other_group:
                message = (
                    f"{label(where)}: devices {clash.other_index} and {clash.index} would both "
                    f"be called {clash.endpoint!r}"
                )
            else:
                message = (
                    f"{label(where)}: device {clash.index} would be called {clash.endpoint!r}, "
                    f"like device {clash.other_index} of groups.{clash.other_group}; endpoint "
                    "names must be unique across groups"
                )
            ctx.error(where, message)
    return built


def _security_fits(
    checked: Mapping[str, object], groups: Sequence[Group | None], ctx: Context
) -> None:
    """A coaps:// server needs keys in every group; a coap:// one takes none."""
    server = checked.get("server")
    if not isinstance(server, ServerTarget):
        return
    for position, group in enumerate(groups):
        if group is None:
            continue
        where: KeyPath = ("groups", position)
        if group.bootstrap is not None:
            continue  # the Bootstrap-Server writes the server account (and its keys)
        if server.scheme == "coaps" and group.security is None:
            ctx.error(
                where,
                f"group {group.name}: the server {server.uri} speaks DTLS; give the group "
                "security: with its pre-shared keys or certificates",
            )
        elif server.scheme == "coap" and group.security is not None:
            ctx.error(
                (*where, "security"),
                f"group {group.name}: security: needs a coaps:// server, not {server.uri}",
            )


def _pattern_ok(pattern: str, count: int) -> bool:
    try:
        check_pattern(pattern, count)
    except PatternError:
        return False
    return True


def _phases(raw: object, ctx: Context) -> list[Phase]:
    phases: list[Phase] = []
    if not isinstance(raw, list):
        return phases
    for index, item in enumerate(raw):
        if not isinstance(item, dict) or INVALID in item.values():
            continue
        name = str(item.get("name") or "")
        variant = item.get("_variant")
        if variant == "pause":
            phases.append(PausePhase(_seconds(item["pause"]), name))
        elif variant == "arrivalCount":
            count = item["arrivalCount"]
            assert isinstance(count, int)
            phases.append(CountPhase(_seconds(item["duration"]), count, name))
        else:
            rate, ramp = item["arrivalRate"], item["rampTo"]
            assert isinstance(rate, float) and (ramp is None or isinstance(ramp, float))
            if rate == 0 and not ramp:
                ctx.error(
                    ("phases", index),
                    f"phases.{index} brings nobody in (arrivalRate 0); write "
                    "{pause: ...} for a pause",
                )
                continue
            phases.append(RatePhase(_seconds(item["duration"]), rate, ramp, name))
    return phases


def _all_phases(raw: object, phases: list[Phase]) -> bool:
    """Every phase entry was usable (so phase names and indexes can be checked)."""
    return isinstance(raw, list) and len(raw) == len(phases)


def _seconds(value: object) -> float:
    assert isinstance(value, int | float)
    return float(value)


def _fit(checked: Mapping[str, object], phases: list[Phase], ctx: Context) -> None:
    """The phases bring the whole fleet in, before the run ends."""
    raw_groups, raw_phases = checked.get("groups"), checked.get("phases")
    if not isinstance(raw_phases, list) or not raw_phases or len(phases) != len(raw_phases):
        return
    duration = checked.get("duration")
    total_time = sum(p.duration for p in phases)
    if isinstance(duration, float) and total_time > duration + 1e-9:
        ctx.error(
            ("duration",),
            f"the run lasts {format_duration(duration)} but its phases last "
            f"{format_duration(total_time)}: lengthen duration or shorten the phases",
        )
        duration = None  # said; the arrival check below would repeat it
    counts = raw_groups if isinstance(raw_groups, list) else []
    counts = [g.get("count") if isinstance(g, dict) else None for g in counts]
    if not counts or not all(isinstance(c, int) for c in counts):
        return
    fleet = sum(c for c in counts if isinstance(c, int))
    capacity = arrival_capacity(phases)
    if capacity < fleet:
        ctx.error(
            ("phases",),
            f"the phases bring in at most {capacity} devices but the groups have {fleet}: "
            "lengthen the phases, raise their rates or counts, or lower the group counts",
            at_key=True,
        )
        return
    # the arrival of the last device is at the end of the last phase that brings
    # anyone exactly when the phases bring no more than the fleet
    total = sum((_amount(phase) for phase in phases), Fraction(0))
    last_end = 0.0
    elapsed = 0.0
    for phase in phases:
        elapsed += phase.duration
        if _amount(phase) > 0:
            last_end = elapsed
    if isinstance(duration, float) and total == fleet and last_end >= duration - 1e-9:
        ctx.error(
            ("duration",),
            f"the last device would arrive at {format_duration(last_end)}, just as the run "
            "ends: lengthen duration or let the phases bring the fleet in sooner",
        )


def _churn(raw: object, duration: object, ctx: Context) -> Churn | None:
    if not isinstance(raw, dict) or INVALID in raw.values():
        return None
    rate, away, start = raw["deregister_rate"], raw["away"], raw["start"]
    assert isinstance(rate, float) and isinstance(away, float)
    assert start is None or isinstance(start, float)
    if start is not None and isinstance(duration, float) and start >= duration:
        ctx.error(
            ("churn", "start"),
            f"churn would start at {format_duration(start)}, when the run "
            f"({format_duration(duration)}) is over",
        )
    return Churn(rate, away, start)


def _thresholds(raw: object, ctx: Context) -> list[Threshold]:
    found: list[Threshold] = []
    if not isinstance(raw, dict):
        return found
    for metric, expressions in raw.items():
        if not isinstance(metric, str) or not isinstance(expressions, list):
            continue
        where: KeyPath = ("thresholds", raw_key(raw, metric))
        for index, entry in enumerate(expressions):
            expression, allow_empty, at = entry, False, (*where, index)
            if isinstance(entry, dict):
                expression, allow_empty = entry.get("threshold"), entry.get("allow_empty") is True
                at = (*at, "threshold")
            if not isinstance(expression, str):
                continue
            try:
                found.append(parse_threshold(metric, expression, allow_empty=allow_empty))
            except ThresholdError as exc:
                ctx.error(at, f"threshold on {metric}: {exc}")
    return found
