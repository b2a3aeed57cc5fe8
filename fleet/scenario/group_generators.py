"""Checking a group's value generators: each fits its resource, reads paths the device has,
and linked generators do not read each other in a loop.

The parameters themselves are checked by
:func:`fleet.device.generators.parse_generator`; its
:class:`~fleet.device.generators.GeneratorError` names the offending
parameter, which is turned back into that parameter's position in the file.
"""

from __future__ import annotations

from collections.abc import Mapping

from fleet.device.generators import GeneratorError, GeneratorSpec, parse_generator
from fleet.model import Path
from fleet.scenario.group_context import GroupContext, raw_key, resource_at
from fleet.scenario.kinds import INVALID
from fleet.scenario.problems import KeyPath


def _generator_mark(where: KeyPath, spec: Mapping[str, object], key: str | None) -> KeyPath:
    if key is None:
        return where
    name, _, rest = key.partition("[")
    if name not in spec:
        return where
    if rest.rstrip("]").isdigit():
        return (*where, name, int(rest.rstrip("]")))
    return (*where, name)


def check_generators(
    g: GroupContext, entries: object, values: Mapping[Path, object]
) -> dict[Path, GeneratorSpec] | None:
    result: dict[Path, GeneratorSpec] = {}
    ok = True
    if not isinstance(entries, dict):
        return result
    wheres: dict[Path, KeyPath] = {}
    for path, spec in entries.items():
        assert isinstance(path, Path)
        where = (*g.path, "generators", raw_key(entries, path))
        wheres[path] = where
        if spec is INVALID:
            ok = False
            continue
        assert isinstance(spec, dict)
        resource = resource_at(g, path, where, "generator for")
        if resource is None:
            ok = False
            continue
        if len(path) == 3 and resource.multiple:
            g.error(
                where,
                f"generator for {path}: resource {resource.id} ({resource.name}) has several "
                f"instances; drive one of them, e.g. {path}/0",
                at_key=True,
            )
            ok = False
            continue
        layout = g.layouts[path[0]]
        if not (layout.optional or resource.mandatory or Path(*path[:3]) in values):
            g.error(
                where,
                f"generator for {path}: resource {resource.id} ({resource.name}) is optional and "
                f"object {path[0]} has optional: false; give it a value or set optional: true",
                at_key=True,
            )
            ok = False
            continue
        try:
            result[path] = parse_generator(spec, resource, base_dir=g.base_dir)
        except GeneratorError as exc:
            prefix = f"{exc.key}: " if exc.key and exc.key != "kind" else ""
            g.error(
                _generator_mark(where, spec, exc.key),
                f"generator for {path}: {prefix}{exc.message}",
            )
            ok = False
    for path, parsed in result.items():
        for source in parsed.inputs:
            spec_where = wheres[path]
            at = (*spec_where, "source")
            reads = f"generator for {path} reads"
            if resource_at(g, Path(*source), at, reads, at_key=False) is None:
                ok = False
    if ok and not _no_loops(g, result, wheres):
        ok = False
    return result if ok else None


def _no_loops(
    g: GroupContext, generators: Mapping[Path, GeneratorSpec], wheres: Mapping[Path, KeyPath]
) -> bool:
    """Linked generators must not read each other in a circle."""
    state: dict[Path, int] = {}  # 1 visiting, 2 done

    def visit(path: Path, trail: list[Path]) -> list[Path] | None:
        state[path] = 1
        for source in generators[path].inputs:
            target = Path(*source)
            if target not in generators:
                continue
            if state.get(target) == 1:
                return [*trail, path, target]
            if target not in state:
                loop = visit(target, [*trail, path])
                if loop:
                    return loop
        state[path] = 2
        return None

    for path in generators:
        if path not in state:
            loop = visit(path, [])
            if loop:
                start = loop.index(loop[-1])
                cycle = " -> ".join(str(p) for p in loop[start:])
                g.error(
                    wheres[loop[start]], f"linked generators read each other in a loop: {cycle}"
                )
                return False
    return True
