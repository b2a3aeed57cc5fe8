"""A device's values and their bookkeeping: storage, change tracking, device-side access.

:class:`DeviceStore` is the part of a device's tree that the device itself
uses: value generators, tests and object behaviours read and set values here
(:meth:`DeviceStore.value`, :meth:`DeviceStore.set_value`), values are still
checked against their resource, and listeners hear about every change. The
LwM2M Server's operations, with their access rules, are added by
:class:`fleet.device.tree.ObjectTree`.

Storage is compact on purpose (a fleet holds 10,000+ trees): per object
instance one list of slots laid out by the shared
:class:`~fleet.device.template.TreeTemplate` (see :mod:`fleet.device.template`).
Every operation collects the paths it changed and calls the change listeners
once at its end; nothing is collected while nobody listens.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import cast

from fleet.clock import Clock
from fleet.device.events import (
    ChangeListener,
    DeviceEvent,
    EventListener,
    ObjectsChanged,
)
from fleet.device.layout import InitialValues
from fleet.device.randomness import Rng
from fleet.device.template import (
    ABSENT,
    MultiValue,
    ObjectPlan,
    ResolvedValues,
    Slot,
    TreeTemplate,
    multi_from,
)
from fleet.device.writing import checked, merge
from fleet.errors import BadRequest, FleetError, MethodNotAllowed, NotFound
from fleet.model.definitions import ObjectModel, ResourceModel
from fleet.model.path import Path
from fleet.model.values import Value, coerce_value

DEVICE = 3
"""The Device object, whose single instance is never deleted."""


class DeviceStore:
    """The objects, instances and current values of one device, seen from the device."""

    __slots__ = (
        "_change_listeners",
        "_changes",
        "_clock",
        "_event_listeners",
        "_objects",
        "_overrides",
        "_rng",
        "_template",
    )

    def __init__(
        self,
        template: TreeTemplate,
        *,
        clock: Clock,
        rng: Rng | None = None,
        values: InitialValues | ResolvedValues | None = None,
    ) -> None:
        """``values``: initial values beyond the template's, or the same already resolved
        against ``template`` (shared with other trees; never changed here)."""
        self._template = template
        self._clock = clock
        self._rng = rng
        self._overrides: ResolvedValues | None
        if isinstance(values, ResolvedValues):
            if values.template is not template:
                raise FleetError("initial values resolved against another template")
            self._overrides = values if values.slots else None
        else:
            self._overrides = ResolvedValues(template, values) if values else None
        self._change_listeners: tuple[ChangeListener, ...] = ()
        self._event_listeners: tuple[EventListener, ...] = ()
        self._changes: list[Path] | None = None
        self._objects: dict[int, Mapping[int, Sequence[Slot]]] = self._initial_objects()
        self._all_ready()

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def rng(self) -> Rng:
        """The device's random source (created on first use if none was given)."""
        if self._rng is None:
            self._rng = random.Random(0)
        return self._rng

    @property
    def template(self) -> TreeTemplate:
        return self._template

    def add_change_listener(self, listener: ChangeListener) -> None:
        """Call ``listener(paths)`` after every operation that changed something."""
        self._change_listeners = (*self._change_listeners, listener)

    def remove_change_listener(self, listener: ChangeListener) -> None:
        self._change_listeners = tuple(x for x in self._change_listeners if x != listener)

    def add_event_listener(self, listener: EventListener) -> None:
        """Call ``listener(event)`` for every :class:`~fleet.device.events.DeviceEvent`."""
        self._event_listeners = (*self._event_listeners, listener)

    def remove_event_listener(self, listener: EventListener) -> None:
        self._event_listeners = tuple(x for x in self._event_listeners if x != listener)

    def emit(self, event: DeviceEvent) -> None:
        """Hand ``event`` to the event listeners."""
        for listener in self._event_listeners:
            listener(event)

    def model(self, object_id: int) -> ObjectModel:
        """The definition of an object of this device (:class:`NotFound` otherwise)."""
        plan = self._template.plans.get(object_id)
        return plan.model if plan is not None else self._plan(Path(object_id)).model

    def instances(self, object_id: int) -> list[int]:
        """The instance ids of an object, ascending."""
        self._plan(Path(object_id))
        return sorted(self._objects[object_id])

    def instance_shape(self) -> tuple[tuple[int, tuple[int, ...]], ...]:
        """Every object with its instance ids (ascending): what a Register lists, as a key."""
        return tuple((oid, tuple(sorted(insts))) for oid, insts in self._objects.items())

    def object_versions(self) -> dict[int, str]:
        """Object id -> version of every object of this device."""
        return {oid: plan.model.version for oid, plan in self._template.plans.items()}

    def supported(self, object_id: int) -> tuple[ResourceModel, ...]:
        """The resources an instance of this object can hold, in id order."""
        return self._plan(Path(object_id)).resources

    def value(self, path: Path | str) -> Value | dict[int, Value]:
        """The value of a resource (``{instance: value}`` if multiple) or resource instance."""
        path = as_path(path)
        if len(path) < 3:
            raise BadRequest(f"{path}: a value lives at a resource or resource instance")
        plan = self._plan(path)
        slots = self._slots(plan, path)
        idx, resource = self._present(plan, slots, path)
        if resource.executable:
            raise MethodNotAllowed(f"{path}: resource {resource.id} ({resource.name}) has no value")
        slot = self._load(plan, path[1], slots, idx)
        if len(path) == 4:
            return resource_instance(path, resource, slot)
        if resource.multiple:
            assert isinstance(slot, tuple)
            return dict(slot)
        return slot  # type: ignore[return-value]

    def set_value(self, path: Path | str, value: object) -> None:
        """Set a value from the device side (generators, tests): checked, then notified."""
        path = as_path(path)
        if len(path) < 3:
            raise BadRequest(f"{path}: a value lives at a resource or resource instance")
        plan = self._plan(path)
        slots = self._slots(plan, path)
        idx = plan.index.get(path[2])
        if idx is None:
            self._present(plan, slots, path)  # raises the right NotFound
            raise AssertionError("unreachable")  # pragma: no cover
        resource = plan.resources[idx]
        if resource.executable:
            raise MethodNotAllowed(f"{path}: resource {resource.id} ({resource.name}) has no value")
        new: Slot
        if len(path) == 4:
            if not resource.multiple:
                raise NotFound(f"{path}: resource {resource.id} is single-instance")
            new = merge(slots[idx], ((path[3], _coerced(path, resource, value)),))
        elif resource.multiple:
            new = _coerced_multi(path, resource, value)
        else:
            new = _coerced(path, resource, value)
        opened = self._open()
        try:
            self._apply(plan, path[1], slots, [(idx, new)])
        finally:
            self._close(opened)

    def factory_reset(self) -> None:
        """Back to the initial instances and values; every object is reported changed.

        Emits :class:`~fleet.device.events.ObjectsChanged` when the set of
        instances differs from before.
        """
        before = {Path(o, i) for o, insts in self._objects.items() for i in insts}
        opened = self._open()
        try:
            self._objects = self._initial_objects()
            self._all_ready()
            for oid in self._objects:
                self._touched(Path(oid))
        finally:
            self._close(opened)
        after = {Path(o, i) for o, insts in self._objects.items() for i in insts}
        if before != after:
            self.emit(
                ObjectsChanged(
                    created=tuple(sorted(after - before)), deleted=tuple(sorted(before - after))
                )
            )

    def stored(
        self, object_id: int, instance_id: int, resource_id: int, *, raw: bool = False
    ) -> object:
        """A value for a behaviour, or ``None`` if there is none (no checks, no hooks).

        Multiple-instance resources come as ``{instance: value}``; ``raw`` skips
        :meth:`~fleet.device.behaviour.Behaviour.compute` for computed resources.
        """
        plan = self._template.plans.get(object_id)
        slots = self._objects.get(object_id, {}).get(instance_id)
        if plan is None or slots is None:
            return None
        idx = plan.index.get(resource_id)
        if idx is None or slots[idx] is ABSENT:
            return None
        slot = slots[idx] if raw else self._load(plan, instance_id, slots, idx)
        return dict(cast(MultiValue, slot)) if plan.resources[idx].multiple else slot

    def store(self, object_id: int, instance_id: int, resource_id: int, value: object) -> bool:
        """Store a value for a behaviour: checked and recorded for listeners, but no hooks run.

        Stores the slot as given (no :meth:`~fleet.device.behaviour.Behaviour.accept`);
        does nothing for a resource that is not instantiated. Answers whether
        the value changed.
        """
        plan = self._template.plans[object_id]
        slots = self._objects[object_id][instance_id]
        idx = plan.index.get(resource_id)
        if idx is None or slots[idx] is ABSENT:
            return False
        resource = plan.resources[idx]
        path = Path(object_id, instance_id, resource_id)
        new: Slot = (
            _coerced_multi(path, resource, value)
            if resource.multiple
            else checked(path, resource, value)
        )
        return self._put(path, slots, idx, new)

    def restore_instance(self, object_id: int, instance_id: int) -> None:
        """Put an instance back to the values it was built (or created) with."""
        plan = self._template.plans[object_id]
        slots = self._objects[object_id][instance_id]
        if self._overrides is not None:
            initial = self._overrides.initial(object_id, instance_id)
        else:
            initial = plan.initial.get(instance_id, plan.blank)
        for idx, slot in enumerate(initial):
            self._put(Path(object_id, instance_id, plan.resources[idx].id), slots, idx, slot)
        if plan.behaviour.has_ready:
            plan.behaviour.ready(self, instance_id)

    def _initial_objects(self) -> dict[int, Mapping[int, Sequence[Slot]]]:
        """The instances as built, shared with the template (read-only mappings of tuples)
        until a change gives the device its own: :meth:`_own` an object's instances
        (created or deleted), :meth:`_put` an instance's slots (a value changed)."""
        objects: dict[int, Mapping[int, Sequence[Slot]]] = {
            oid: plan.initial for oid, plan in self._template.plans.items()
        }
        overrides = self._overrides
        if overrides is not None:
            for oid in {oid for oid, _ in overrides.slots}:
                objects[oid] = overrides.instances(oid)
        return objects

    def _own(self, object_id: int) -> dict[int, Sequence[Slot]]:
        """The instances of an object, this device's own from now on (to add or remove one)."""
        instances = self._objects[object_id]
        if not isinstance(instances, dict):
            instances = self._objects[object_id] = dict(instances)
        return instances

    def _all_ready(self) -> None:
        for oid, plan in self._template.plans.items():
            if plan.behaviour.has_ready:
                for iid in list(self._objects[oid]):
                    plan.behaviour.ready(self, iid)

    def _plan(self, path: Path) -> ObjectPlan:
        plan = self._template.plans.get(path[0])
        if plan is None:
            raise NotFound(f"{path}: this device has no object {path[0]}")
        return plan

    def _slots(self, plan: ObjectPlan, path: Path) -> Sequence[Slot]:
        slots = self._objects[path[0]].get(path[1])
        if slots is None:
            raise NotFound(
                f"{path}: object {path[0]} ({plan.model.name}) has no instance {path[1]}"
            )
        return slots

    def _present(
        self, plan: ObjectPlan, slots: Sequence[Slot], path: Path
    ) -> tuple[int, ResourceModel]:
        rid = path[2]
        idx = plan.index.get(rid)
        if idx is None or slots[idx] is ABSENT:
            defined = plan.model.resources.get(rid)
            if defined is None:
                raise NotFound(
                    f"{path}: object {path[0]} ({plan.model.name}) has no resource {rid}"
                )
            raise NotFound(f"{path}: resource {rid} ({defined.name}) is not instantiated")
        return idx, plan.resources[idx]

    def _load(self, plan: ObjectPlan, iid: int, slots: Sequence[Slot], idx: int) -> Slot:
        slot = slots[idx]
        if idx in plan.computed:
            return plan.behaviour.compute(self, iid, plan.resources[idx].id, slot)
        return slot

    def _apply(
        self, plan: ObjectPlan, iid: int, slots: Sequence[Slot], staged: list[tuple[int, Slot]]
    ) -> None:
        behaviour = plan.behaviour
        changed: set[int] = set()
        for idx, new in staged:
            rid = plan.resources[idx].id
            if idx in plan.computed and new is not ABSENT:
                new = behaviour.accept(self, iid, rid, new)
            if self._put(Path(plan.object_id, iid, rid), slots, idx, new):
                changed.add(rid)
        if changed and not behaviour.watches.isdisjoint(changed):
            behaviour.changed(self, iid, frozenset(changed))

    def _put(self, path: Path, slots: Sequence[Slot], idx: int, new: Slot) -> bool:
        if not isinstance(slots, list):  # shared with the template: what the instance has now
            slots = self._objects[path[0]][path[1]]
        old = slots[idx]
        if old is new or (type(old) is type(new) and old == new):
            return False
        if not isinstance(slots, list):  # the instance's first change: its own copy
            slots = self._own(path[0])[path[1]] = list(slots)
        slots[idx] = new
        self._touched(path)
        return True

    def _touched(self, path: Path) -> None:
        if self._changes is not None:
            self._changes.append(path)

    def _open(self) -> bool:
        if self._changes is not None or not self._change_listeners:
            return False
        self._changes = []
        return True

    def _close(self, opened: bool) -> None:
        if not opened:
            return
        changes, self._changes = self._changes, None
        if changes:
            paths = tuple(dict.fromkeys(changes))
            for listener in self._change_listeners:
                listener(paths)


def as_path(path: Path | str) -> Path:
    if isinstance(path, Path):
        return path
    try:
        return Path.parse(path)
    except FleetError as exc:
        raise BadRequest(str(exc)) from None


def resource_instance(path: Path, resource: ResourceModel, slot: Slot) -> Value:
    if not resource.multiple:
        raise NotFound(
            f"{path}: resource {resource.id} ({resource.name}) is single-instance "
            "and has no resource instances"
        )
    for ri, value in cast(MultiValue, slot):
        if ri == path[3]:
            return value
    raise NotFound(f"{path}: resource {resource.id} ({resource.name}) has no instance {path[3]}")


def _coerced(path: Path, resource: ResourceModel, value: object) -> Value:
    try:
        return coerce_value(resource, value)
    except FleetError as exc:
        raise type(exc)(f"{path}: {exc}") from None


def _coerced_multi(path: Path, resource: ResourceModel, value: object) -> Slot:
    try:
        return multi_from(resource, value)
    except FleetError as exc:
        raise type(exc)(f"{path}: {exc}") from None
