"""A group while it is being checked, and finding the resource definition a path names.

:class:`GroupContext` carries what the steps of checking one group share
(the registry, the LwM2M version, the object layouts built so far, the
scenario's folder); :func:`resource_at` answers the definition of the
resource at a path of the group's devices, or reports why there is none.
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping
from dataclasses import dataclass, field

from fleet.device import ObjectLayout
from fleet.model import ModelRegistry, Path, ResourceModel
from fleet.scenario.kinds import Context
from fleet.scenario.problems import KeyPath

_LIST_LIMIT = 24


def raw_key(entries: object, key: object) -> object:
    """The key as written in the document for a converted mapping key."""
    raw_keys: Mapping[object, object] = getattr(entries, "raw_keys", {})
    return raw_keys.get(key, key)


@dataclass
class GroupContext:
    """What checking one group needs to share between its steps."""

    path: KeyPath
    ctx: Context
    registry: ModelRegistry
    version: str
    layouts: dict[int, ObjectLayout]
    base_dir: pathlib.Path
    failed: set[int] = field(default_factory=set)
    """Objects already reported as wrong: paths into them are not reported again."""

    def error(self, where: KeyPath, message: str, *, at_key: bool = False) -> None:
        self.ctx.error(where, message, at_key=at_key)

    def known_objects(self) -> str:
        ids = self.registry.ids()
        if len(ids) > _LIST_LIMIT:
            return "see `fleet objects list`, or add definitions with objects: [DIR]"
        return "known: " + ", ".join(str(i) for i in ids)


def resource_at(
    g: GroupContext, path: Path, where: KeyPath, what: str, *, at_key: bool = True
) -> ResourceModel | None:
    """The definition at ``path`` in this group, or None after reporting why not."""
    object_id, instance_id, resource_id = path[0], path[1], path[2]
    layout = g.layouts.get(object_id)
    if object_id in g.failed:
        return None
    if layout is None:
        g.error(
            where,
            f"{what} {path}: object {object_id} is not in this group's objects "
            f"(add it under objects:)",
            at_key=at_key,
        )
        return None
    if instance_id not in layout.instances:
        have = ", ".join(str(i) for i in layout.instances)
        g.error(
            where,
            f"{what} {path}: object {object_id} has no instance {instance_id} in this group "
            f"(instances: {have})",
            at_key=at_key,
        )
        return None
    model = g.registry.get(object_id, layout.version)
    resource = model.resources.get(resource_id)
    if resource is None:
        g.error(
            where,
            f"{what} {path}: object {object_id} ({model.name}) v{model.version} has no "
            f"resource {resource_id} (see `fleet objects show {object_id}`)",
            at_key=at_key,
        )
        return None
    if resource.executable:
        g.error(
            where,
            f"{what} {path}: resource {resource_id} ({resource.name}) is executable and has "
            "no value",
            at_key=at_key,
        )
        return None
    if len(path) == 4 and not resource.multiple:
        g.error(
            where,
            f"{what} {path}: resource {resource_id} ({resource.name}) is single-instance; "
            f"write {Path(*path[:3])}",
            at_key=at_key,
        )
        return None
    return resource
