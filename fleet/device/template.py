"""A device layout compiled against the object definitions, shared by many trees.

Compiling checks the layout once (objects exist in the registry, values fit
their resources) and lays every object instance out as a tuple of *slots*, one
per instantiable resource in id order. A tree copies these tuples into lists,
so a fleet of ten thousand devices shares every definition and every initial
value object, and pays only for a few small lists per device.

A slot holds :data:`ABSENT` (resource not instantiated), :data:`PRESENT` (an
instantiated executable), a :data:`~fleet.model.values.Value` (single
resource) or a :data:`MultiValue`, a sorted tuple of ``(instance, value)``
pairs (multiple-instance resource).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Final

from fleet.device.behaviour import PLAIN, Behaviour
from fleet.device.layout import DeviceLayout, InitialValues, LayoutError
from fleet.errors import FleetError, InvalidValue
from fleet.model.definitions import ObjectModel, ResourceModel
from fleet.model.path import Path
from fleet.model.registry import ModelRegistry
from fleet.model.values import ObjectLink, Value, coerce_value, default_value


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


ABSENT: Final = _Marker("ABSENT")
PRESENT: Final = _Marker("PRESENT")
MultiValue = tuple[tuple[int, Value], ...]
Slot = object
Slots = tuple[Slot, ...]


class ObjectPlan:
    """One object of a compiled layout: definition, slot map, initial instances, behaviour."""

    __slots__ = (
        "behaviour",
        "blank",
        "computed",
        "index",
        "initial",
        "model",
        "readable",
        "readable_resources",
        "resources",
    )

    def __init__(
        self,
        model: ObjectModel,
        resources: tuple[ResourceModel, ...],
        blank: Slots,
        behaviour: Behaviour,
    ) -> None:
        self.model = model
        self.resources = resources
        self.index: Mapping[int, int] = {r.id: i for i, r in enumerate(resources)}
        self.blank = blank
        self.behaviour = behaviour
        self.computed = frozenset(i for i, r in enumerate(resources) if r.id in behaviour.computed)
        self.readable = tuple(i for i, r in enumerate(resources) if r.readable)
        self.readable_resources: tuple[tuple[int, int, bool, bool], ...] = tuple(
            (i, resources[i].id, resources[i].multiple, i in self.computed) for i in self.readable
        )
        """Per readable resource: slot index, id, multiple, computed (what a Read walks)."""
        self.initial: Mapping[int, Slots] = {}

    @property
    def object_id(self) -> int:
        return self.model.id


class ResolvedValues:
    """Initial values already resolved against a template (:meth:`TreeTemplate.resolve`):
    ``slots`` is ``{(object, instance): {slot index: slot}}``.

    Many trees may share one (a fleet of like devices whose server values differ from
    the template's alike, :meth:`fleet.client.config.DeviceProfile.initial_values`):
    a tree reads it and never changes it.
    """

    __slots__ = ("_instances", "_merged", "slots", "template")

    def __init__(self, template: TreeTemplate, values: InitialValues) -> None:
        self.template = template
        self.slots: Mapping[tuple[int, int], Mapping[int, Slot]] = template.resolve(values)
        self._merged: dict[tuple[int, int], Slots] = {}
        self._instances: dict[int, Mapping[int, Slots]] = {}

    def instances(self, object_id: int) -> Mapping[int, Slots]:
        """The initial instances of an object with these values applied (read-only, built
        once)."""
        found = self._instances.get(object_id)
        if found is None:
            plan = self.template.plans[object_id]
            merged = dict(plan.initial)
            for oid, iid in self.slots:
                if oid == object_id:
                    merged[iid] = self.initial(oid, iid)
            found = self._instances[object_id] = MappingProxyType(merged)
        return found

    def initial(self, object_id: int, instance_id: int) -> Slots:
        """The initial slots of an instance with these values applied (built once)."""
        key = (object_id, instance_id)
        found = self._merged.get(key)
        if found is None:
            plan = self.template.plans[object_id]
            slots = list(plan.initial.get(instance_id, plan.blank))
            for idx, slot in self.slots.get(key, {}).items():
                slots[idx] = slot
            found = self._merged[key] = tuple(slots)
        return found


class TreeTemplate:
    """A compiled :class:`DeviceLayout`: build it once, then any number of trees from it."""

    __slots__ = ("layout", "plans")

    def __init__(self, plans: Mapping[int, ObjectPlan], layout: DeviceLayout) -> None:
        self.plans = plans
        self.layout = layout

    @classmethod
    def compile(
        cls,
        registry: ModelRegistry,
        layout: DeviceLayout,
        behaviours: Mapping[int, Behaviour] | None = None,
    ) -> TreeTemplate:
        """Check ``layout`` against ``registry`` and lay it out; :class:`LayoutError` if wrong."""
        if behaviours is None:
            from fleet.device.behaviours import SHIPPED_BEHAVIOURS

            behaviours = SHIPPED_BEHAVIOURS
        named = _named_resources(layout.values)
        plans: dict[int, ObjectPlan] = {}
        for object_id, spec in layout.objects.items():
            try:
                model = registry.get(object_id, spec.version)
            except FleetError as exc:
                raise LayoutError(str(exc), item=f"/{object_id}") from None
            if not model.multiple and len(spec.instances) > 1:
                raise LayoutError(
                    f"object {object_id} ({model.name}) is single-instance, "
                    f"the layout gives instances {list(spec.instances)}",
                    item=f"/{object_id}",
                )
            behaviour = behaviours.get(object_id, PLAIN)
            wanted = named.get(object_id, set())
            resources = tuple(r for r in model if spec.optional or r.mandatory or r.id in wanted)
            defaults = _coerced_defaults(model, behaviour)
            blank = tuple(_blank_slot(r, defaults) for r in resources)
            plans[object_id] = ObjectPlan(model, resources, blank, behaviour)
        template = cls(plans, layout)
        assigned = template.resolve(layout.values, check_instances=False)
        for object_id, spec in layout.objects.items():
            plan = plans[object_id]
            initial: dict[int, Slots] = {}
            for iid in spec.instances:
                slots = list(plan.blank)
                for idx, slot in assigned.pop((object_id, iid), {}).items():
                    slots[idx] = slot
                initial[iid] = tuple(slots)
            plan.initial = MappingProxyType(initial)  # shared by every tree: read-only
        if assigned:
            (object_id, iid), _ = next(iter(assigned.items()))
            raise LayoutError(
                f"initial values for instance {iid}, which the layout does not create",
                item=f"/{object_id}/{iid}",
            )
        return template

    def resolve(
        self, values: InitialValues, *, check_instances: bool = True
    ) -> dict[tuple[int, int], dict[int, Slot]]:
        """Initial values as slots: ``{(object, instance): {slot index: slot}}``."""
        result: dict[tuple[int, int], dict[int, Slot]] = {}
        for key, raw in values.items():
            path = _path(key)
            where = str(path)
            if len(path) < 3:
                raise LayoutError("an initial value needs a resource path", item=where)
            plan = self.plans.get(path[0])
            if plan is None:
                raise LayoutError(f"object {path[0]} is not in the layout", item=where)
            if check_instances and path[1] not in plan.initial:
                raise LayoutError(
                    f"object {path[0]} has no instance {path[1]} in the layout", item=where
                )
            idx = plan.index.get(path[2])
            if idx is None:
                known = path[2] in plan.model.resources
                reason = "is not instantiated in this layout" if known else "is not defined"
                raise LayoutError(
                    f"resource {path[2]} of object {path[0]} ({plan.model.name}) {reason}",
                    item=where,
                )
            resource = plan.resources[idx]
            slots = result.setdefault((path[0], path[1]), {})
            try:
                if resource.executable:
                    raise InvalidValue(f"resource {resource.id} ({resource.name}) is executable")
                if len(path) == 4:
                    if not resource.multiple:
                        raise InvalidValue(
                            f"resource {resource.id} ({resource.name}) is single-instance"
                        )
                    old = slots.get(idx, ())
                    assert isinstance(old, tuple)
                    merged = dict(old)
                    merged[path[3]] = coerce_value(resource, raw)
                    slots[idx] = tuple(sorted(merged.items()))
                elif resource.multiple:
                    slots[idx] = multi_from(resource, raw)
                else:
                    slots[idx] = coerce_value(resource, raw)
            except InvalidValue as exc:
                raise LayoutError(str(exc), item=where) from None
        return result

    def __iter__(self) -> Iterator[ObjectPlan]:
        return iter(self.plans.values())


def multi_from(resource: ResourceModel, raw: object) -> MultiValue:
    """A multiple-instance value from a list, a ``{instance: value}`` mapping or one value."""
    items: list[tuple[int, Value]] = []
    if isinstance(raw, Mapping):
        for key, value in raw.items():
            ri = _instance_key(resource, key)
            items.append((ri, coerce_value(resource, value)))
    elif isinstance(raw, list | tuple) and not isinstance(raw, ObjectLink):
        items = [(ri, coerce_value(resource, value)) for ri, value in enumerate(raw)]
    else:
        items = [(0, coerce_value(resource, raw))]
    return tuple(sorted(dict(items).items()))


def _instance_key(resource: ResourceModel, key: object) -> int:
    if isinstance(key, str) and key.isascii() and key.isdigit():
        key = int(key)
    if isinstance(key, bool) or not isinstance(key, int) or not 0 <= key <= 65535:
        raise InvalidValue(
            f"resource {resource.id} ({resource.name}): instance id must be 0..65535, got {key!r}"
        )
    return key


def _path(key: str | Path) -> Path:
    if isinstance(key, Path):
        return key
    try:
        return Path.parse(key)
    except FleetError as exc:
        raise LayoutError(str(exc), item=str(key)) from None


def _named_resources(values: InitialValues) -> dict[int, set[int]]:
    named: dict[int, set[int]] = {}
    for key in values:
        path = _path(key)
        if len(path) >= 3:
            named.setdefault(path[0], set()).add(path[2])
    return named


def _coerced_defaults(model: ObjectModel, behaviour: Behaviour) -> dict[int, Slot]:
    coerced: dict[int, Slot] = {}
    for rid, raw in behaviour.defaults(model).items():
        resource = model.resources.get(rid)
        if resource is None or resource.executable:
            continue  # a default for a resource this version does not define
        try:
            coerced[rid] = (
                multi_from(resource, raw) if resource.multiple else coerce_value(resource, raw)
            )
        except InvalidValue as exc:
            raise LayoutError(
                f"behaviour default does not fit: {exc}", item=f"/{model.id}/*/{rid}"
            ) from None
    return coerced


def _blank_slot(resource: ResourceModel, defaults: Mapping[int, Slot]) -> Slot:
    if resource.executable:
        return PRESENT
    if resource.id in defaults:
        return defaults[resource.id]
    if resource.multiple:
        return ((0, default_value(resource)),) if resource.mandatory else ()
    return default_value(resource)
