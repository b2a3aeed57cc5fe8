"""One device's live data as a LwM2M Server sees it: the model-checked object tree.

:class:`ObjectTree` answers the Device Management operations on value nodes
(never bytes): Read, Write (replace and partial update), Execute, Create,
Delete and Discover, plus what Register needs (:meth:`ObjectTree.links`).
Every request is checked against the object definitions before anything runs
or changes, in this order: the Security object is never accessible to a
LwM2M Server (4.01); the target must exist (4.04); the operation must be
allowed on it (4.05); the payload must be valid (4.00). Errors are
:class:`~fleet.errors.Lwm2mError` subclasses whose message starts with the path.

Values, listeners and the device-side API come from
:class:`~fleet.device.store.DeviceStore`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final, NamedTuple, cast

from fleet.clock import Clock
from fleet.device.arguments import parse_arguments
from fleet.device.behaviour import Behaviour
from fleet.device.bootstrap_store import BootstrapStore
from fleet.device.events import Executed, ObjectsChanged
from fleet.device.layout import DeviceLayout, InitialValues
from fleet.device.randomness import Rng
from fleet.device.spec_limits import SERVER
from fleet.device.store import DEVICE, as_path, resource_instance
from fleet.device.template import ABSENT, MultiValue, ObjectPlan, Slot, TreeTemplate
from fleet.device.writing import checked, multi_checked, stage_write
from fleet.errors import BadRequest, MethodNotAllowed, NotFound, Unauthorized
from fleet.model.definitions import ResourceModel
from fleet.model.nodes import (
    MultiResource,
    Node,
    ObjectInstance,
    ObjectNode,
    ResourceInstance,
    ResourceNode,
    SingleResource,
)
from fleet.model.path import Path
from fleet.model.registry import ModelRegistry

SECURITY: Final = 0
HIDDEN_FROM_REGISTER: Final = frozenset({0, 21})
"""Security (0) and OSCORE (21) objects are never listed in Register or Update."""


class Link(NamedTuple):
    """One entry of the Register payload: ``</3>;ver=1.1`` or ``</3/0>``."""

    path: Path
    version: str | None = None


class ObjectTree(BootstrapStore):
    """The objects, instances and current values of one device."""

    __slots__ = ()

    @classmethod
    def build(
        cls,
        registry: ModelRegistry,
        layout: DeviceLayout,
        *,
        clock: Clock,
        rng: Rng | None = None,
        values: InitialValues | None = None,
        behaviours: Mapping[int, Behaviour] | None = None,
    ) -> ObjectTree:
        """Compile ``layout`` and build one tree (fleets compile once and share the template)."""
        template = TreeTemplate.compile(registry, layout, behaviours)
        return cls(template, clock=clock, rng=rng, values=values)

    def links(self) -> list[Link]:
        """The Register/Update payload: objects with a non-1.0 version, then their instances.

        An object without instances is listed alone. Security (0) and OSCORE
        (21) are left out, as the specification requires.
        """
        result: list[Link] = []
        for oid, plan in self._template.plans.items():
            if oid in HIDDEN_FROM_REGISTER:
                continue
            version = plan.model.version if plan.model.version != "1.0" else None
            instances = sorted(self._objects[oid])
            if version is not None or not instances:
                result.append(Link(Path(oid), version))
            result.extend(Link(Path(oid, iid)) for iid in instances)
        return result

    def read(self, path: Path | str) -> Node:
        """Read an object, instance, resource or resource instance (readable resources only)."""
        path = self._server_path(path, "Read")
        plan = self._plan(path)
        oid = path[0]
        if len(path) == 1:
            return ObjectNode(
                oid,
                {iid: self._instance_node(plan, iid, s) for iid, s in self._objects[oid].items()},
            )
        slots = self._slots(plan, path)
        if len(path) == 2:
            return self._instance_node(plan, path[1], slots)
        idx, resource = self._present(plan, slots, path)
        if not resource.readable:
            ops = resource.operations.ddf() or "none"
            raise MethodNotAllowed(
                f"{path}: resource {resource.id} ({resource.name}) is not readable "
                f"(operations {ops})"
            )
        slot = self._load(plan, path[1], slots, idx)
        if len(path) == 3:
            return _resource_node(resource, slot)
        return ResourceInstance(path[3], resource_instance(path, resource, slot))

    def discover(self, path: Path | str) -> list[tuple[Path, int | None]]:
        """What lies at and below ``path``: ``(path, dim)``, ``dim`` for multiple resources.

        An object lists itself, its instances and their resources; an instance
        itself and its resources; a resource itself and its resource instances.
        Executable and write-only resources are listed too.
        """
        path = self._server_path(path, "Discover")
        plan = self._plan(path)
        if len(path) == 4:
            self._present(plan, self._slots(plan, path), path)
            raise MethodNotAllowed(f"{path}: Discover targets an object, instance or resource")
        found: list[tuple[Path, int | None]] = [(path, None)]
        if len(path) == 1:
            for iid, slots in sorted(self._objects[path[0]].items()):
                found.append((path.child(iid), None))
                found.extend(self._discover_resources(plan, path.child(iid), slots))
            return found
        slots = self._slots(plan, path)
        if len(path) == 2:
            found.extend(self._discover_resources(plan, path, slots))
            return found
        idx, resource = self._present(plan, slots, path)
        slot = slots[idx]
        if resource.multiple and isinstance(slot, tuple):
            found = [(path, len(slot))]
            found.extend((path.child(ri), None) for ri, _ in slot)
        return found

    def write(self, path: Path | str, node: Node, *, replace: bool) -> None:
        """Write replace (``replace=True``, CoAP PUT) or partial update (CoAP POST)."""
        self.write_many([(path, node)], replace=replace)

    def write_many(self, writes: Iterable[tuple[Path | str, Node]], *, replace: bool) -> None:
        """Several Writes as one: all are checked before any is applied (Write-Composite).

        Later writes see the earlier ones (two partial updates of one
        multiple-instance resource merge); the listeners hear once.
        """
        scratch: dict[tuple[int, int], list[Slot]] = {}
        steps: list[tuple[ObjectPlan, int, Sequence[Slot], list[tuple[int, Slot]]]] = []
        for target, node in writes:
            path = self._server_path(target, "Write")
            plan = self._plan(path)
            if len(path) == 1:
                raise MethodNotAllowed(
                    f"{path}: Write targets an object instance, a resource or a resource "
                    "instance (only a Bootstrap-Write may target a whole object)"
                )
            slots = self._slots(plan, path)
            seen = scratch.setdefault((path[0], path[1]), list(slots))
            staged = stage_write(plan, seen, path, node, replace=replace)
            for idx, new in staged:
                seen[idx] = new
            steps.append((plan, path[1], slots, staged))
        opened = self._open()
        try:
            for plan, iid, slots, staged in steps:
                self._apply(plan, iid, slots, staged)
        finally:
            self._close(opened)

    def execute(self, path: Path | str, arguments: str | bytes | None = None) -> None:
        """Execute a resource with arguments in the ``0='abc',1`` syntax (4.00 if malformed)."""
        path = self._server_path(path, "Execute")
        plan = self._plan(path)
        if len(path) == 1:
            raise MethodNotAllowed(f"{path}: Execute targets a resource, not an object")
        slots = self._slots(plan, path)
        if len(path) == 2:
            raise MethodNotAllowed(f"{path}: Execute targets a resource, not an object instance")
        _, resource = self._present(plan, slots, path)
        if len(path) == 4:
            raise MethodNotAllowed(f"{path}: Execute targets a resource, not a resource instance")
        if not resource.executable:
            ops = resource.operations.ddf() or "none"
            raise MethodNotAllowed(
                f"{path}: resource {resource.id} ({resource.name}) is not executable "
                f"(operations {ops})"
            )
        parsed = parse_arguments(arguments)
        opened = self._open()
        try:
            event = plan.behaviour.execute(self, path[1], path[2], parsed)
        finally:
            self._close(opened)
        self.emit(event if event is not None else Executed(path, parsed))

    def create(self, object_id: int, instance: ObjectInstance, *, assign_id: bool = False) -> int:
        """Create an instance; with ``assign_id`` the tree picks the lowest free id.

        Answers the new instance id. Every mandatory writable resource must be
        in the payload (4.00); other resources start from their defaults.
        """
        target = self._server_path(Path(object_id), "Create")
        plan = self._plan(target)
        existing = self._objects[object_id]
        model = plan.model
        if not model.multiple and existing:
            raise MethodNotAllowed(
                f"{target}: object {object_id} ({model.name}) is single-instance "
                "and already has its instance"
            )
        iid = _free_id(existing) if assign_id else instance.id
        path = target.child(iid)
        if iid in existing:
            raise BadRequest(f"{path}: instance {iid} already exists")
        slots = list(plan.blank)
        given: set[int] = set()
        for rid, rnode in instance.resources.items():
            rpath = path.child(rid)
            idx = plan.index.get(rid)
            if idx is None:
                raise NotFound(f"{rpath}: object {object_id} ({model.name}) has no resource {rid}")
            resource = plan.resources[idx]
            if resource.executable:
                raise MethodNotAllowed(f"{rpath}: resource {rid} ({resource.name}) is executable")
            slots[idx] = _created_slot(rpath, resource, rnode)
            given.add(rid)
        missing = [r for r in plan.resources if r.mandatory and r.writable and r.id not in given]
        if missing:
            names = ", ".join(f"{r.id} ({r.name})" for r in missing)
            raise BadRequest(f"{path}: mandatory writable resources missing: {names}")
        opened = self._open()
        try:
            self._own(object_id)[iid] = slots
            self._touched(path)
            if plan.behaviour.has_ready:
                plan.behaviour.ready(self, iid)
        finally:
            self._close(opened)
        self.emit(ObjectsChanged(created=(path,)))
        return iid

    def delete(self, path: Path | str) -> None:
        """Delete an object instance (never the Device object's nor an LwM2M Server's)."""
        path = self._server_path(path, "Delete")
        plan = self._plan(path)
        if len(path) == 1:
            raise MethodNotAllowed(f"{path}: Delete targets an object instance, not an object")
        slots = self._slots(plan, path)
        if len(path) > 2:
            self._present(plan, slots, path)
            raise MethodNotAllowed(f"{path}: Delete targets an object instance")
        if path[0] == DEVICE:
            raise MethodNotAllowed(f"{path}: the Device object instance cannot be deleted")
        if path[0] == SERVER:
            raise MethodNotAllowed(
                f"{path}: an LwM2M Server object instance is deleted only by a Bootstrap-Delete"
                " (the device would lose its server)"
            )
        opened = self._open()
        try:
            del self._own(path[0])[path[1]]
            self._touched(path)
        finally:
            self._close(opened)
        self.emit(ObjectsChanged(deleted=(path,)))

    def _server_path(self, path: Path | str, operation: str) -> Path:
        path = as_path(path)
        if not path:
            raise MethodNotAllowed(f"/: {operation} does not target the root")
        if path[0] == SECURITY:
            raise Unauthorized(
                f"{path}: the Security object (0) is not accessible to a LwM2M Server"
            )
        return path

    def _instance_node(self, plan: ObjectPlan, iid: int, slots: Sequence[Slot]) -> ObjectInstance:
        resources: dict[int, ResourceNode] = {}
        compute = plan.behaviour.compute
        for idx, rid, multiple, computed in plan.readable_resources:  # per layout, not per Read
            slot = slots[idx]
            if slot is ABSENT:
                continue
            if computed:
                slot = compute(self, iid, rid, slot)
            if multiple:
                resources[rid] = MultiResource(rid, dict(cast(MultiValue, slot)))
            else:
                resources[rid] = SingleResource(rid, slot)  # type: ignore[arg-type]
        return ObjectInstance(iid, resources)

    def _discover_resources(
        self, plan: ObjectPlan, base: Path, slots: Sequence[Slot]
    ) -> list[tuple[Path, int | None]]:
        found: list[tuple[Path, int | None]] = []
        for idx, resource in enumerate(plan.resources):
            slot = slots[idx]
            if slot is ABSENT:
                continue
            dim = len(slot) if resource.multiple and isinstance(slot, tuple) else None
            found.append((base.child(resource.id), dim))
        return found


def _free_id(existing: Mapping[int, object]) -> int:
    iid = 0
    while iid in existing:
        iid += 1
    return iid


def _resource_node(resource: ResourceModel, slot: Slot) -> ResourceNode:
    if resource.multiple:
        assert isinstance(slot, tuple)
        return MultiResource(resource.id, dict(slot))
    return SingleResource(resource.id, slot)  # type: ignore[arg-type]


def _created_slot(path: Path, resource: ResourceModel, node: ResourceNode) -> Slot:
    if resource.multiple:
        if not isinstance(node, MultiResource):
            raise BadRequest(f"{path}: the payload must be a multiple-instance resource")
        return multi_checked(path, resource, node.instances)
    if not isinstance(node, SingleResource):
        raise BadRequest(f"{path}: the payload must be a single resource")
    return checked(path, resource, node.value)
