"""Turning one checked ``groups`` entry into a :class:`~fleet.scenario.model.Group`.

The declaration (:mod:`fleet.scenario.spec`) has already checked shapes and
types; here each group is checked against the object definitions: objects
and versions exist, instances fit, initial values fit their resources, every
generator fits its resource (through
:func:`fleet.device.generators.parse_generator`) and reads paths the device
has, the endpoint pattern works, and the preferred format and Send fit the
LwM2M version. Every problem is reported with its mark; a group with any
problem yields ``None``.
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping
from types import MappingProxyType

from fleet.codec import ContentFormat, format_label
from fleet.codec.negotiation import SINCE, formats_for
from fleet.codec.registry import versions_for
from fleet.device import DeviceLayout, LayoutError, ObjectLayout, TreeTemplate
from fleet.device.spec_limits import check_spec
from fleet.device.template import multi_from
from fleet.errors import FleetError, InvalidValue
from fleet.model import ModelRegistry, Path, coerce_value
from fleet.scenario.bootstrap import build_bootstrap
from fleet.scenario.endpoints import PatternError, check_pattern, too_long
from fleet.scenario.firmware import FIRMWARE_OBJECT, build_firmware
from fleet.scenario.group_context import GroupContext, raw_key, resource_at
from fleet.scenario.group_generators import check_generators
from fleet.scenario.kinds import INVALID, Context, label
from fleet.scenario.model import Group
from fleet.scenario.problems import KeyPath
from fleet.scenario.security import build_security
from fleet.scenario.security_modes import is_nosec
from fleet.scenario.spec import MANDATORY_OBJECTS


def _objects(g: GroupContext, entries: object) -> bool:
    """Fill ``g.layouts``; False after a problem."""
    ok = True
    defaults = versions_for(g.registry, g.version)
    if isinstance(entries, dict):
        for object_id, entry in entries.items():
            where = (*g.path, "objects", raw_key(entries, object_id))
            assert isinstance(object_id, int)
            if entry is INVALID:
                ok = False
                g.failed.add(object_id)
                continue
            if object_id not in g.registry:
                g.failed.add(object_id)
                g.error(where, f"unknown object {object_id} ({g.known_objects()})", at_key=True)
                ok = False
                continue
            if isinstance(entry, dict):
                record, at_instances = entry, (*where, "instances")
            else:
                record, at_instances = {"instances": entry}, where
            layout = _object_layout(
                g, object_id, record, (where, at_instances), defaults.get(object_id)
            )
            if layout is None:
                ok = False
                g.failed.add(object_id)
            else:
                g.layouts[object_id] = layout
    for object_id in MANDATORY_OBJECTS:
        if object_id not in g.layouts and object_id in g.registry:
            g.layouts[object_id] = ObjectLayout((0,), defaults.get(object_id))
    return ok


def _object_layout(
    g: GroupContext,
    object_id: int,
    record: Mapping[str, object],
    wheres: tuple[KeyPath, KeyPath],
    default: str | None,
) -> ObjectLayout | None:
    where, at_instances = wheres
    instances = record.get("instances")
    version = record.get("version")
    if instances is INVALID or version is INVALID or not isinstance(instances, list):
        return None
    if INVALID in instances:
        return None
    if isinstance(version, str):
        try:
            model = g.registry.get(object_id, version)
        except FleetError as exc:
            g.error((*where, "version"), str(exc))
            return None
    else:
        version = default
        model = g.registry.get(object_id, version)
    seen: set[object] = set()
    for position, iid in enumerate(instances):
        if iid in seen:
            g.error(
                (*at_instances, position), f"instance {iid} of object {object_id} is listed twice"
            )
            return None
        seen.add(iid)
    if not model.multiple and len(instances) > 1:
        g.error(
            at_instances,
            f"object {object_id} ({model.name}) is single-instance; give one instance, "
            f"got {instances}",
        )
        return None
    optional = record.get("optional", True)
    return ObjectLayout(tuple(int(i) for i in instances), version, optional=optional is not False)


def _values(g: GroupContext, entries: object) -> dict[Path, object] | None:
    result: dict[Path, object] = {}
    ok = True
    if not isinstance(entries, dict):
        return result
    for path, raw in entries.items():
        assert isinstance(path, Path)
        where = (*g.path, "values", raw_key(entries, path))
        resource = resource_at(g, path, where, "value for")
        if resource is None:
            ok = False
            continue
        try:
            if len(path) == 3 and resource.multiple:
                result[path] = dict(multi_from(resource, raw))
            else:
                if isinstance(raw, list | dict):
                    raise InvalidValue(f"resource {resource.id} ({resource.name}) takes one value")
                value = coerce_value(resource, raw)
                check_spec(path, resource, value)
                result[path] = value
        except InvalidValue as exc:
            g.error(where, f"value for {path}: {exc}")
            ok = False
    return result if ok else None


def _protocol(g: GroupContext, raw: Mapping[str, object]) -> bool:
    ok = True
    fmt = raw.get("format")
    if isinstance(fmt, ContentFormat) and fmt not in formats_for(g.version):
        g.error(
            (*g.path, "format"),
            f"format {fmt.short_name} needs LwM2M {SINCE.get(fmt, '1.0')} or later; this group "
            f"speaks LwM2M {g.version}",
        )
        ok = False
    if raw.get("send_enabled") is True and g.version == "1.0":
        g.error((*g.path, "send_enabled"), "Send needs LwM2M 1.1 or later; this group speaks 1.0")
        ok = False
    return ok


def _endpoint(g: GroupContext, raw: Mapping[str, object], first_index: int) -> bool:
    pattern, count = raw.get("endpoint"), raw.get("count")
    if not isinstance(pattern, str):
        return False
    if not isinstance(count, int):
        count = 2  # unknown: check the pattern as for a fleet
    where = (*g.path, "endpoint")
    try:
        check_pattern(pattern, count)
    except PatternError as exc:
        g.error(where, f"{label(where)}: {exc}")
        return False
    longest = too_long(pattern, first_index, count)
    if longest is not None:
        g.error(where, f"{label(where)}: {longest[:40]!r}... is longer than 255 characters")
        return False
    return True


def build_group(
    raw: Mapping[str, object],
    path: KeyPath,
    position: int,
    first_index: int,
    registry: ModelRegistry | None,
    ctx: Context,
    base_dir: pathlib.Path,
) -> Group | None:
    """The group at ``path`` (already shape-checked), or None after reporting its problems.

    ``registry`` ``None`` (the object folders failed to load) skips the model checks.
    """
    versions = raw.get("lwm2m_version")
    if isinstance(versions, str):
        versions = [versions]
    ok = _endpoint(GroupContext(path, ctx, ModelRegistry(), "", {}, base_dir), raw, first_index)
    if registry is None:
        return None
    if not isinstance(versions, list) or not all(isinstance(v, str) for v in versions):
        ok, versions = False, ["1.1"]  # reported; check the rest as the default version
    elif len(set(versions)) != len(versions):
        ctx.error(
            (*path, "lwm2m_version"),
            f"{label((*path, 'lwm2m_version'))}: each version may be given once",
        )
        ok = False
    version = str(versions[0])
    fallback = tuple(str(v) for v in versions[1:])
    g = GroupContext(path, ctx, registry, version, {}, base_dir)
    ok = _protocol(g, raw) and ok
    ok = _objects(g, raw.get("objects")) and ok
    firmware = build_firmware(g, raw.get("firmware"))
    if raw.get("firmware") is not None:
        ok = firmware is not None and ok
        if FIRMWARE_OBJECT not in g.layouts and FIRMWARE_OBJECT in registry:
            g.layouts[FIRMWARE_OBJECT] = ObjectLayout((0,), None)
    values = _values(g, raw.get("values"))
    generators = check_generators(g, raw.get("generators"), values or {})
    if values is None or generators is None or not ok or INVALID in raw.values():
        return None
    layout = DeviceLayout(g.layouts, values)
    try:
        template = TreeTemplate.compile(registry, layout)
    except LayoutError as exc:
        ctx.error((*path, "objects"), f"{label(path)}: {exc}")
        return None
    name = raw.get("name")
    fmt = raw.get("format")
    for other in fallback:
        if isinstance(fmt, ContentFormat) and fmt not in formats_for(other):
            where = (*path, "format")
            ctx.error(
                where, f"{label(where)}: {format_label(fmt)} is not a format of LwM2M {other}"
            )
            return None
    count, lifetime, awake = raw["count"], raw["lifetime"], raw["awake_time"]
    assert isinstance(count, int) and isinstance(lifetime, int)
    assert isinstance(awake, int | float)
    security = build_security(g, raw.get("security"), first_index, count, str(raw["endpoint"]))
    if security is None and raw.get("security") is not None and not is_nosec(raw["security"]):
        return None  # reported
    bootstrap = build_bootstrap(g, raw.get("bootstrap"), first_index, count, str(raw["endpoint"]))
    if bootstrap is None and raw.get("bootstrap") is not None:
        return None  # reported
    return Group(
        name=name if isinstance(name, str) else f"group-{position + 1}",
        count=count,
        first_index=first_index,
        endpoint_pattern=str(raw["endpoint"]),
        lwm2m_version=version,
        lwm2m_fallback=fallback,
        lifetime=lifetime,
        binding=str(raw["binding"]),
        content_format=fmt if isinstance(fmt, ContentFormat) else None,
        layout=layout,
        generators=MappingProxyType(generators),
        send_enabled=raw.get("send_enabled") is True,
        template=template,
        awake_time=float(awake),
        security=security,
        bootstrap=bootstrap,
        firmware=firmware,
    )
