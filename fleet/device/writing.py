"""Write, replace and partial update, worked out against the model before anything changes.

:func:`stage_write` checks a whole Write request and answers the slot changes
it amounts to; the tree applies them only when every check passed, so a
refused Write changes nothing. The rules (LwM2M 1.1 core, Write operation and
operations on an object instance):

- a Write targets an object instance, a resource or a resource instance of a
  multiple-instance resource; an object is only written by a Bootstrap-Write;
- every resource in the payload must exist (else 4.04) and be writable: if one
  is not, the whole Write is refused with 4.05 (it is not silently skipped);
- *replace* (CoAP PUT): a multiple-instance resource gets exactly the instances
  of the payload; on an object instance, optional writable resources missing
  from the payload are removed, mandatory ones keep their value (the device
  cannot do without them), read-only resources are untouched;
- *partial update* (CoAP POST): resources and resource instances of the
  payload are added or updated, everything else is left as it is;
- a resource instance write sets (or adds) that one instance;
- every value is checked against its resource (type, ``<RangeEnumeration>``) and
  against what the specification forbids (:mod:`fleet.device.spec_limits`: Lifetime,
  periods, non-finite floats), on each of these paths and on Create (:func:`checked`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from fleet.device.spec_limits import check_spec
from fleet.device.template import ABSENT, MultiValue, ObjectPlan, Slot
from fleet.errors import BadRequest, InvalidValue, MethodNotAllowed, NotFound
from fleet.model.definitions import ResourceModel
from fleet.model.nodes import MultiResource, Node, ObjectInstance, ResourceInstance, SingleResource
from fleet.model.path import Path
from fleet.model.values import Value, check_value

Staged = list[tuple[int, Slot]]


def stage_write(
    plan: ObjectPlan, slots: Sequence[Slot], path: Path, node: Node, *, replace: bool
) -> Staged:
    """The ``(slot index, new slot)`` changes a Write of ``node`` at ``path`` makes."""
    if len(path) == 2:
        if not isinstance(node, ObjectInstance) or node.id != path[1]:
            raise _wrong_node(path, f"an object instance with id {path[1]}", node)
        return _stage_instance(plan, slots, path, node, replace)
    if len(path) == 3:
        idx, resource = writable_resource(plan, path)
        return [(idx, _resource_slot(path, resource, node, slots[idx], replace))]
    idx, resource = _located(plan, path)
    if not resource.multiple:
        raise NotFound(
            f"{path}: resource {resource.id} ({resource.name}) is single-instance "
            "and has no resource instances"
        )
    _require_writable(path, resource)
    if not isinstance(node, ResourceInstance) or node.id != path[3]:
        raise _wrong_node(path, f"a resource instance with id {path[3]}", node)
    value = checked(path, resource, node.value)
    return [(idx, merge(slots[idx], ((path[3], value),)))]


def writable_resource(plan: ObjectPlan, path: Path) -> tuple[int, ResourceModel]:
    """Slot index and definition of the resource ``path`` names; 4.04 or 4.05 if not writable."""
    idx, resource = _located(plan, path)
    _require_writable(path, resource)
    return idx, resource


def checked(path: Path, resource: ResourceModel, value: object) -> Value:
    """``value`` checked against ``resource``; :class:`InvalidValue` (4.00) names the path."""
    try:
        good = check_value(resource, value)
    except InvalidValue as exc:
        raise InvalidValue(f"{path}: {exc}") from None
    check_spec(path, resource, good)
    return good


def merge(old: Slot, new: MultiValue) -> MultiValue:
    """A multiple-instance value with the instances of ``new`` added or replaced."""
    if not isinstance(old, tuple) or not old:
        return new
    if not new:
        return old
    merged = dict(old)
    merged.update(new)
    return tuple(sorted(merged.items()))


def multi_checked(
    path: Path, resource: ResourceModel, instances: Mapping[int, object]
) -> MultiValue:
    """The checked instances of a multiple-instance resource, sorted."""
    items: list[tuple[int, Value]] = []
    for ri, value in instances.items():
        if isinstance(ri, bool) or not isinstance(ri, int) or not 0 <= ri <= 65535:
            raise BadRequest(f"{path}: resource instance id must be 0..65535, got {ri!r}")
        items.append((ri, checked(path.child(ri), resource, value)))
    return tuple(sorted(items))


def _stage_instance(
    plan: ObjectPlan, slots: Sequence[Slot], path: Path, node: ObjectInstance, replace: bool
) -> Staged:
    staged: Staged = []
    seen: set[int] = set()
    for rid, rnode in node.resources.items():
        rpath = path.child(rid)
        idx, resource = writable_resource(plan, rpath)
        staged.append((idx, _resource_slot(rpath, resource, rnode, slots[idx], replace)))
        seen.add(idx)
    if replace:
        for idx, resource in enumerate(plan.resources):
            if idx in seen or not resource.writable or resource.mandatory:
                continue
            if slots[idx] is not ABSENT:
                staged.append((idx, ABSENT))
    return staged


def _resource_slot(
    path: Path, resource: ResourceModel, node: Node, old: Slot, replace: bool
) -> Slot:
    if resource.multiple:
        if not isinstance(node, MultiResource) or node.id != resource.id:
            raise _wrong_node(path, f"a multiple-instance resource with id {resource.id}", node)
        new = multi_checked(path, resource, node.instances)
        return new if replace else merge(old, new)
    if not isinstance(node, SingleResource) or node.id != resource.id:
        raise _wrong_node(path, f"a single resource with id {resource.id}", node)
    return checked(path, resource, node.value)


def _located(plan: ObjectPlan, path: Path) -> tuple[int, ResourceModel]:
    rid = path[2]
    idx = plan.index.get(rid)
    if idx is None:
        model = plan.model
        defined = model.resources.get(rid)
        if defined is None:
            raise NotFound(f"{path}: object {model.id} ({model.name}) has no resource {rid}")
        raise NotFound(f"{path}: resource {rid} ({defined.name}) is not instantiated")
    return idx, plan.resources[idx]


def _require_writable(path: Path, resource: ResourceModel) -> None:
    if not resource.writable:
        ops = resource.operations.ddf() or "none"
        raise MethodNotAllowed(
            f"{path}: resource {resource.id} ({resource.name}) is not writable (operations {ops})"
        )


def _wrong_node(path: Path, expected: str, node: Node) -> BadRequest:
    got = type(node).__name__
    node_id = getattr(node, "id", None)
    return BadRequest(f"{path}: the payload must be {expected}, got {got} id {node_id}")
