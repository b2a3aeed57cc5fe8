"""What every codec shares: the :class:`Codec` protocol, model look-ups, node assembly.

A codec turns a node (or a composite) at a request path into bytes and back.
Formats that carry no types (TLV, plain text, opaque) need the object model
to read values, and every decoder checks values against it, so codecs work
through a :class:`ModelView`: the registry, the object versions the device
runs, and whether ranges are enforced.

Decoders that see a flat list of values (SenML, LwM2M JSON) hand them to
:func:`assemble`, which builds the node the request path asks for and refuses
anything that does not fit the model (a value on an object instance, a
resource instance of a single resource, a value outside the path).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from typing import Protocol

from fleet.codec.formats import ContentFormat
from fleet.codec.values import checked, expect, fail
from fleet.errors import CodecError, NotFound
from fleet.model import (
    Composite,
    ModelRegistry,
    MultiResource,
    Node,
    ObjectInstance,
    ObjectModel,
    ObjectNode,
    Path,
    ResourceInstance,
    ResourceModel,
    SingleResource,
    Value,
)
from fleet.model.nodes import ResourceNode, node_path_matches

Leaf = tuple[Path, ResourceModel, Value]


class ModelView:
    """Object definitions as one device sees them, for one encode or decode.

    ``versions`` picks a version per object id (a device may run Device 1.0
    while the registry's default is newer). With ``strict=False`` a decoder
    skips resources and objects it has no definition for and does not enforce
    ranges (what a server does with a device's answers); by default both are
    errors. The paths it skipped are collected in :attr:`missing`, so that a caller can
    say which values it could not read (never dropped silently).
    """

    __slots__ = ("_objects", "missing", "models", "strict", "versions")

    def __init__(
        self,
        models: ModelRegistry,
        versions: Mapping[int, str] | None = None,
        *,
        strict: bool = True,
    ) -> None:
        self.models = models
        self.versions = versions or {}
        self.strict = strict
        self._objects: dict[int, ObjectModel | None] = {}
        self.missing: list[Path] = []
        """Paths of values skipped for want of a definition (lenient decoding only)."""

    def object_model(self, object_id: int) -> ObjectModel | None:
        """The definition of an object; ``None`` only when not strict."""
        if object_id in self._objects:
            found = self._objects[object_id]
        else:
            try:
                found = self.models.get(object_id, self.versions.get(object_id))
            except NotFound as exc:
                if self.strict:
                    raise CodecError(str(exc)) from None
                found = None
            self._objects[object_id] = found
        if found is None and self.strict:
            raise CodecError(f"no definition for object {object_id}")
        return found

    def resource(self, path: Path) -> ResourceModel | None:
        """The resource a path of level 3 or 4 names; ``None`` only when not strict."""
        if len(path) < 3:
            raise fail(path, "a value needs a resource path (/object/instance/resource)")
        model = self.object_model(path[0])
        if model is None:
            self.missing.append(path)
            return None
        found = model.resources.get(path[2])
        if found is None:
            if self.strict:
                raise fail(path, f"object {model.id} v{model.version} has no resource {path[2]}")
            self.missing.append(path)
            return None
        return found

    def need(self, path: Path) -> ResourceModel:
        """Like :meth:`resource`, for encoders: always a definition or an error."""
        found = self.resource(path)
        if found is None:
            raise fail(path, "no definition for this resource")
        return found

    def value(self, path: Path, resource: ResourceModel, raw: object) -> Value:
        """Check a decoded value against the model."""
        return checked(path, resource, raw, ranges=self.strict)


class Codec(Protocol):
    """One content format: nodes at a request path to bytes and back."""

    @property
    def content_format(self) -> ContentFormat: ...

    def encode(self, node: Node | Composite, path: Path, view: ModelView) -> bytes:
        """Serialise ``node``, which sits at ``path`` (the request path)."""
        ...

    def decode(self, payload: bytes, path: Path, view: ModelView) -> Node | Composite:
        """Parse ``payload``, answered for or written to ``path``."""
        ...


# ------------------------------------------------------------------ encode helpers


def check_node(node: Node, path: Path, view: ModelView) -> None:
    """``node`` is the kind of node that sits at ``path`` in the model."""
    if not node_path_matches(node, path):
        raise fail(path, f"a {type(node).__name__} with id {node.id} cannot sit at this path")
    if len(path) >= 3:
        resource = view.need(path)
        if isinstance(node, MultiResource | ResourceInstance) != resource.multiple:
            kind = "multiple" if resource.multiple else "single"
            raise fail(path, f"{type(node).__name__} for a {kind}-instance resource")


def typed_leaves(node: Node, path: Path, view: ModelView) -> Iterator[Leaf]:
    """Every value of ``node`` with its path and definition, checked for the encoder."""
    check_node(node, path, view)
    if isinstance(node, SingleResource | ResourceInstance):
        resource = view.need(path)
        yield path, resource, expect(path, resource, node.value)
    elif isinstance(node, MultiResource):
        resource = view.need(path)
        for ri, value in node.instances.items():
            child = path.child(ri)
            yield child, resource, expect(child, resource, value)
    elif isinstance(node, ObjectInstance):
        for rid, res_node in node.resources.items():
            yield from typed_leaves(res_node, path.child(rid), view)
    else:
        for iid, inst in node.instances.items():
            yield from typed_leaves(inst, path.child(iid), view)


def composite_leaves(composite: Composite, view: ModelView) -> Iterator[Leaf]:
    """Every value of a composite, in path order; ``None`` entries are an error."""
    for path, node in composite.nodes.items():
        if node is None:
            raise fail(path, "a composite to encode needs a node at every path")
        yield from typed_leaves(node, path, view)


# ------------------------------------------------------------------ decode helpers


def assemble(
    path: Path,
    leaves: Mapping[Path, Value],
    view: ModelView,
    containers: Collection[Path] = (),
) -> Node:
    """Build the node at ``path`` from values at leaf paths.

    ``containers`` are paths that exist although they hold no value (an empty
    object instance or multiple-instance resource written explicitly).
    """
    if not path:
        raise CodecError("the root path has no single node; decode it as a composite")
    items = list(leaves.items())
    for leaf_path, _ in items:
        if not path.contains(leaf_path):
            raise fail(leaf_path, f"lies outside the request path {path}")
    boxes = [c for c in containers if path.contains(c) and c != path]
    return _build(path, items, view, boxes)


def _build(path: Path, items: list[tuple[Path, Value]], view: ModelView, boxes: list[Path]) -> Node:
    level = len(path)
    if level >= 3:
        return _resource_node(path, items, view)
    buckets: dict[int, list[tuple[Path, Value]]] = {}
    for leaf_path, value in items:
        buckets.setdefault(leaf_path[level], []).append((leaf_path, value))
    inner: dict[int, list[Path]] = {}
    for box in boxes:
        buckets.setdefault(box[level], [])
        if len(box) > level + 1:
            inner.setdefault(box[level], []).append(box)
    children: dict[int, Node] = {}
    for cid, sub in sorted(buckets.items()):
        children[cid] = _build(path.child(cid), sub, view, inner.get(cid, []))
    if level == 2:
        return ObjectInstance(path[1], _resource_nodes(children))
    return ObjectNode(path[0], _instance_nodes(children))


def _instance_nodes(children: Mapping[int, Node]) -> dict[int, ObjectInstance]:
    out: dict[int, ObjectInstance] = {}
    for iid, child in children.items():
        if not isinstance(child, ObjectInstance):  # pragma: no cover - _build's own output
            raise CodecError("internal: object child is not an instance")
        out[iid] = child
    return out


def _resource_nodes(children: Mapping[int, Node]) -> dict[int, ResourceNode]:
    out: dict[int, ResourceNode] = {}
    for rid, child in children.items():
        if not isinstance(child, SingleResource | MultiResource):  # pragma: no cover
            raise CodecError("internal: instance child is not a resource")
        out[rid] = child
    return out


def _resource_node(path: Path, items: list[tuple[Path, Value]], view: ModelView) -> Node:
    resource = view.need(path)
    if len(path) == 4:
        if not resource.multiple:
            raise fail(path, f"resource {path[2]} ({resource.name}) has no instances")
        if len(items) != 1 or items[0][0] != path:
            raise fail(path, "expected exactly one value for this resource instance")
        return ResourceInstance(path[3], items[0][1])
    if resource.multiple:
        instances: dict[int, Value] = {}
        for leaf_path, value in items:
            if len(leaf_path) != 4:
                raise fail(leaf_path, f"{resource.name} is multiple-instance: name an instance")
            instances[leaf_path[3]] = value
        return MultiResource(path[2], instances)
    if len(items) != 1 or items[0][0] != path:
        if any(len(p) == 4 for p, _ in items):
            raise fail(path, f"resource {path[2]} ({resource.name}) has no instances")
        raise fail(path, f"expected exactly one value for resource {resource.name}")
    return SingleResource(path[2], items[0][1])


def assemble_composite(
    leaves: Mapping[Path, Value], view: ModelView, containers: Collection[Path] = ()
) -> Composite:
    """A composite of leaf nodes (and empty containers) from decoded values."""
    nodes: dict[Path, Node | None] = {}
    for leaf_path, value in leaves.items():
        nodes[leaf_path] = _resource_node(leaf_path, [(leaf_path, value)], view)
    above = {Path(*p[:size]) for p in (*leaves, *containers) for size in range(len(p))}
    for box in containers:
        if box and box not in above:
            nodes[box] = assemble(box, {}, view)
    return Composite(nodes)
