"""Overriding a scenario from the command line and the environment.

Precedence, highest first: flags (``--server``, ``--devices``, ``--duration``,
``--seed``, ``--set key.path=value``) > environment (``FLEET_SERVER``,
``FLEET_DEVICES``, ``FLEET_DURATION``, ``FLEET_SEED``) > the file > defaults.
:func:`env_settings` and :func:`flag_settings` turn each source into
:class:`Setting` objects; the loader applies them in order (environment
first, then flags, so flags win), *before* validation, so an overridden value
is checked exactly like one written in the file and its problems name the
flag or variable it came from.

- ``server``, ``duration``, ``seed`` replace the top-level key.
- ``devices`` sets the fleet size: the group counts are scaled to add up to
  it, in proportion (largest remainder, every group keeps at least one
  device). With one group it is simply that group's count.
- ``--set key.path=value`` replaces one value anywhere. The path is
  dot-separated keys; a list item is its index or, for groups, its name
  (``groups.sensors.count=50``, ``groups.group-2.count=5`` for an unnamed
  second group, ``phases.0.duration=30s``). The value is YAML
  (``--set seed=7`` is a number, ``--set 'groups.0.objects={3303: [0, 1]}'``
  a mapping). An empty value or ``null`` removes the key (back to its
  default). Missing mappings on the way are created. Named flags are applied
  after every ``--set``.

An environment variable set to the empty text counts as unset.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from fleet.scenario.problems import KeyPath, Mark, Problems, ScenarioErrors, SourceMap, describe
from fleet.scenario.yamlsource import load_document

ENVIRONMENT: Final[Mapping[str, str]] = {
    "FLEET_SERVER": "server",
    "FLEET_DEVICES": "devices",
    "FLEET_DURATION": "duration",
    "FLEET_SEED": "seed",
}
"""Environment variable -> the setting it gives."""

TARGETS: Final = ("server", "devices", "duration", "seed", "set")


@dataclass(frozen=True, slots=True)
class Setting:
    """One override: ``target`` (``server``, ``devices``, ``duration``, ``seed`` or ``set``),
    the value as given, and ``origin`` (``--seed``, ``FLEET_SEED``...) for messages."""

    target: str
    value: object
    origin: str

    def mark(self) -> Mark:
        if self.target == "set":
            return Mark(item=f"{self.origin} {self.value}")
        return Mark(item=self.origin)


def env_settings(environ: Mapping[str, str]) -> list[Setting]:
    """The settings the ``FLEET_*`` variables give (values read as YAML scalars)."""
    return [
        Setting(target, environ[name], name)
        for name, target in ENVIRONMENT.items()
        if environ.get(name, "").strip()
    ]


def flag_settings(
    *,
    server: object = None,
    devices: object = None,
    duration: object = None,
    seed: object = None,
    sets: Sequence[str] = (),
) -> list[Setting]:
    """The settings of ``fleet run``'s flags; ``None`` means the flag was not given."""
    result = [Setting("set", text, "--set") for text in sets]
    for target, value in (
        ("server", server),
        ("devices", devices),
        ("duration", duration),
        ("seed", seed),
    ):
        if value is not None:
            result.append(Setting(target, value, f"--{target}"))
    return result


def run_settings(
    environ: Mapping[str, str],
    *,
    server: object = None,
    devices: object = None,
    duration: object = None,
    seed: object = None,
    sets: Sequence[str] = (),
) -> list[Setting]:
    """Environment then flags: what ``fleet run`` and ``fleet validate`` apply."""
    flags = flag_settings(server=server, devices=devices, duration=duration, seed=seed, sets=sets)
    return [*env_settings(environ), *flags]


def _yaml_value(text: str, mark: Mark, problems: Problems) -> tuple[bool, object]:
    try:
        document = load_document(text, root=mark)
    except ScenarioErrors as exc:
        problems.extend(exc.errors)
        return False, None
    problems.extend(document.errors)
    return not document.errors, document.data


def _typed(setting: Setting, problems: Problems) -> tuple[bool, object]:
    """Environment and flag values are text: read them as YAML like the file would."""
    if isinstance(setting.value, str) and setting.target != "set":
        return _yaml_value(setting.value, setting.mark(), problems)
    return True, setting.value


def apply_settings(
    data: dict[object, object],
    source: SourceMap,
    settings: Sequence[Setting],
    problems: Problems,
) -> None:
    """Apply ``settings`` to the document in order; ``--set`` first within each source."""
    ordered = [s for s in settings if s.target == "set"] + [
        s for s in settings if s.target != "set"
    ]
    for setting in sorted(ordered, key=lambda s: s.origin.startswith("--")):
        mark = setting.mark()
        if setting.target not in TARGETS:
            problems.add(mark, f"unknown setting {setting.target!r}")
            continue
        if setting.target == "set":
            _apply_set(data, source, setting, problems)
            continue
        ok, value = _typed(setting, problems)
        if not ok:
            continue
        if setting.target == "devices":
            _apply_devices(data, source, value, mark, problems)
            continue
        data[setting.target] = value
        source.replace((setting.target,), mark)


def _apply_devices(
    data: dict[object, object], source: SourceMap, value: object, mark: Mark, problems: Problems
) -> None:
    groups = data.get("groups")
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        problems.add(
            mark, f"the number of devices must be a whole number >= 1, got {describe(value)}"
        )
        return
    if not isinstance(groups, list) or not groups:
        return  # the file's own problem is reported by validation
    counts: list[int] = []
    for group in groups:
        count = group.get("count") if isinstance(group, dict) else None
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            return  # reported by validation, at the count
        counts.append(count)
    if value < len(counts):
        problems.add(
            mark,
            f"{value} devices cannot fill {len(counts)} groups (each needs at least one device)",
        )
        return
    for index, count in enumerate(scale_counts(counts, value)):
        group = groups[index]
        assert isinstance(group, dict)
        group["count"] = count
        source.replace(("groups", index, "count"), mark)


def scale_counts(counts: Sequence[int], total: int) -> list[int]:
    """``counts`` scaled to add up to ``total``: largest remainder, every group at least 1."""
    whole = sum(counts)
    exact = [count * total / whole for count in counts]
    result = [int(share) for share in exact]
    by_remainder = sorted(range(len(counts)), key=lambda i: (-(exact[i] - result[i]), i))
    for i in by_remainder[: total - sum(result)]:
        result[i] += 1
    for i, count in enumerate(result):
        if count == 0:
            donor = max(range(len(result)), key=lambda j: (result[j], -j))
            result[donor] -= 1
            result[i] = 1
    return result


def _segment_key(container: dict[object, object], segment: str) -> object:
    for key in container:
        if str(key) == segment:
            return key
    if segment.isascii() and segment.isdigit():
        return int(segment)
    return segment


def _list_index(items: list[object], segment: str, where: str) -> int:
    if segment.isascii() and segment.isdigit():
        index = int(segment)
        if index < len(items):
            return index
        raise LookupError(f"{where} has {len(items)} item(s); there is no item {index}")
    for index, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == segment:
            return index
    for index, item in enumerate(items):  # a group without a name is called group-N
        unnamed = isinstance(item, dict) and "name" not in item
        if where == "groups" and unnamed and segment == f"group-{index + 1}":
            return index
    raise LookupError(f"{where} has no item named {segment!r} (use its index or name)")


def _apply_set(
    data: dict[object, object], source: SourceMap, setting: Setting, problems: Problems
) -> None:
    mark = setting.mark()
    text = str(setting.value)
    key_text, equals, value_text = text.partition("=")
    segments = key_text.strip().split(".")
    if not equals or not all(s.strip() for s in segments):
        problems.add(mark, "write --set key.path=value (e.g. --set groups.0.count=50)")
        return
    ok, value = _yaml_value(value_text, mark, problems)
    if not ok:
        return
    container: object = data
    path: KeyPath = ()
    fresh: KeyPath | None = None
    try:
        for position, raw_segment in enumerate(segments):
            segment = raw_segment.strip()
            last = position == len(segments) - 1
            where = ".".join(str(p) for p in path) or "the scenario"
            if isinstance(container, dict):
                key = _segment_key(container, segment)
                path = (*path, key)
                if last:
                    if value is None:
                        container.pop(key, None)
                    else:
                        container[key] = value
                elif not isinstance(container.get(key), dict | list):
                    if key in container and container[key] is not None:
                        here = ".".join(str(p) for p in path)
                        raise LookupError(f"{here} is {describe(container[key])}, not a mapping")
                    container[key] = {}
                    fresh = fresh or path
                if not last:
                    container = container[key]
            elif isinstance(container, list):
                index = _list_index(container, segment, where)
                path = (*path, index)
                if last:
                    if value is None:
                        raise LookupError(f"a list item cannot be removed with --set ({where})")
                    container[index] = value
                else:
                    container = container[index]
            else:  # pragma: no cover - guarded above
                raise LookupError(f"{where} is not a mapping or a list")
    except LookupError as exc:
        problems.add(mark, str(exc))
        return
    source.replace(fresh or path, mark)
