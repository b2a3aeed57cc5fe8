"""What the LwM2M Bootstrap-Server may do to a device's values, below the server's access rules.

A Bootstrap-Server reaches what no LwM2M Server may: the Security object
(``/0``), whole objects, instances that do not exist yet. :class:`BootstrapStore`
adds exactly those two primitives to :class:`~fleet.device.store.DeviceStore`:

- :meth:`BootstrapStore.bootstrap_write` (LwM2M 1.1 Core, 5.2.7.4
  Bootstrap-Write): the values are written "regardless of the existence of the
  targeted Object Instance or Resource": a missing instance is created (its
  mandatory resources at their defaults, optional ones absent until written), a
  resource that no server could write (the whole Security object has no
  operations) is written all the same; values are still checked against their
  resource (4.00), a resource the device does not hold is 4.04, an executable
  one 4.05, and nothing changes unless everything is valid;
- :meth:`BootstrapStore.remove_instance`, the step of a Bootstrap-Delete.

*Which* instances a Bootstrap-Delete removes, and what Bootstrap-Finish checks,
are protocol rules: :mod:`fleet.client.bootstrap.rules` decides them.
"""

from __future__ import annotations

from fleet.device.events import ObjectsChanged
from fleet.device.store import DeviceStore, as_path
from fleet.device.template import ABSENT, ObjectPlan, Slot
from fleet.device.writing import checked, merge, multi_checked
from fleet.errors import BadRequest, MethodNotAllowed, NotFound
from fleet.model.definitions import ResourceModel
from fleet.model.nodes import (
    MultiResource,
    Node,
    ObjectInstance,
    ObjectNode,
    ResourceInstance,
    SingleResource,
)
from fleet.model.path import Path


class BootstrapStore(DeviceStore):
    """The Bootstrap-Server's primitives on a device's values (see the module docstring)."""

    __slots__ = ()

    def bootstrap_write(self, path: Path | str, node: Node) -> None:
        """Write ``node`` at ``path`` (an object, instance, resource or resource instance).

        Instances that do not exist are created with their defaults first; the
        written resources replace their values, the others are kept. All writes
        are checked before any is applied; the listeners hear once.
        """
        path = as_path(path)
        if not path:
            raise MethodNotAllowed("/: a Bootstrap-Write targets an object or below")
        plan = self._plan(path)
        staged: dict[int, dict[int, Slot]] = {}
        if len(path) == 1:
            if not isinstance(node, ObjectNode) or node.id != path[0]:
                raise BadRequest(f"{path}: the payload must be object {path[0]}")
            if not plan.model.multiple and len(node.instances) > 1:
                raise BadRequest(f"{path}: object {path[0]} ({plan.model.name}) is single-instance")
            for iid, instance in node.instances.items():
                staged[iid] = self._stage_instance(plan, path.child(iid), instance)
        elif len(path) == 2:
            if not isinstance(node, ObjectInstance) or node.id != path[1]:
                raise BadRequest(f"{path}: the payload must be object instance {path[1]}")
            staged[path[1]] = self._stage_instance(plan, path, node)
        else:
            staged[path[1]] = self._stage_resource(plan, path, node)
        existing = self._objects[path[0]]
        if not plan.model.multiple and any(iid not in existing for iid in staged) and existing:
            raise BadRequest(
                f"{path}: object {path[0]} ({plan.model.name}) is single-instance "
                "and already has its instance"
            )
        created: list[Path] = []
        opened = self._open()
        try:
            for iid, changes in staged.items():
                slots = self._objects[path[0]].get(iid)
                if slots is None:
                    slots = self._own(path[0])[iid] = _created(plan)
                    created.append(Path(path[0], iid))
                    self._touched(Path(path[0], iid))
                for idx, slot in changes.items():
                    self._put(Path(path[0], iid, plan.resources[idx].id), slots, idx, slot)
                if Path(path[0], iid) in created and plan.behaviour.has_ready:
                    plan.behaviour.ready(self, iid)
        finally:
            self._close(opened)
        if created:
            self.emit(ObjectsChanged(created=tuple(created)))

    def remove_instance(self, object_id: int, instance_id: int) -> None:
        """Remove one object instance (4.04 if there is none); listeners hear of it."""
        path = Path(object_id, instance_id)
        plan = self._plan(path)
        self._slots(plan, path)
        opened = self._open()
        try:
            del self._own(object_id)[instance_id]
            self._touched(path)
        finally:
            self._close(opened)
        self.emit(ObjectsChanged(deleted=(path,)))

    def _stage_instance(
        self, plan: ObjectPlan, path: Path, instance: ObjectInstance
    ) -> dict[int, Slot]:
        changes: dict[int, Slot] = {}
        for rid, rnode in instance.resources.items():
            idx, slot = self._resource_slot(plan, path.child(rid), rnode, None)
            changes[idx] = slot
        return changes

    def _stage_resource(self, plan: ObjectPlan, path: Path, node: Node) -> dict[int, Slot]:
        current = self._objects[path[0]].get(path[1])
        idx, resource = self._bootstrap_resource(plan, path)
        if len(path) == 4:
            if not resource.multiple:
                raise NotFound(f"{path}: resource {resource.id} ({resource.name}) has no instances")
            if not isinstance(node, ResourceInstance) or node.id != path[3]:
                raise BadRequest(f"{path}: the payload must be resource instance {path[3]}")
            old = current[idx] if current is not None else plan.blank[idx]
            value = checked(path, resource, node.value)
            return {idx: merge(old, ((path[3], value),))}
        _, slot = self._resource_slot(plan, path, node, idx)
        return {idx: slot}

    def _resource_slot(
        self, plan: ObjectPlan, path: Path, node: Node, known: int | None
    ) -> tuple[int, Slot]:
        idx, resource = (
            self._bootstrap_resource(plan, path)
            if known is None
            else (known, plan.resources[known])
        )
        if resource.multiple:
            if not isinstance(node, MultiResource):
                raise BadRequest(f"{path}: the payload must be a multiple-instance resource")
            return idx, multi_checked(path, resource, node.instances)
        if not isinstance(node, SingleResource):
            raise BadRequest(f"{path}: the payload must be a single resource")
        return idx, checked(path, resource, node.value)

    def _bootstrap_resource(self, plan: ObjectPlan, path: Path) -> tuple[int, ResourceModel]:
        rid = path[2]
        idx = plan.index.get(rid)
        if idx is None:
            defined = plan.model.resources.get(rid)
            what = "has no resource" if defined is None else "does not hold resource"
            raise NotFound(f"{path}: object {path[0]} ({plan.model.name}) {what} {rid}")
        resource = plan.resources[idx]
        if resource.executable:
            raise MethodNotAllowed(f"{path}: resource {rid} ({resource.name}) is executable")
        return idx, resource


def _created(plan: ObjectPlan) -> list[Slot]:
    """A new instance's slots: mandatory and executable resources present (mandatory ones at
    their defaults), optional values absent until written (so "not present" keeps its
    meaning, e.g. /1/x/16 true, /1/x/17..20 the specification's defaults)."""
    return [
        slot if resource.mandatory or resource.executable else ABSENT
        for slot, resource in zip(plan.blank, plan.resources, strict=True)
    ]
