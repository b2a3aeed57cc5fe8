"""Tree content as a server receives it: locating targets, picking formats, encoding answers.

Shared by the site (Read, Observe, Read-Composite answers), the observations
(notifications) and Send. Everything here is synchronous and raises
:class:`~fleet.errors.Lwm2mError` subclasses, which the site translates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from fleet.codec.composite import encode_composite
from fleet.codec.formats import ContentFormat
from fleet.codec.negotiation import choose_format
from fleet.codec.registry import encode
from fleet.device.tree import ObjectTree
from fleet.errors import MethodNotAllowed, NotFound, Unauthorized
from fleet.model.definitions import ResourceModel
from fleet.model.nodes import Composite, Node, ResourceInstance, SingleResource
from fleet.model.path import Path
from fleet.model.registry import ModelRegistry
from fleet.model.values import Value

SECURITY = 0


def locate(tree: ObjectTree, path: Path, *, new_instance: bool = False) -> ResourceModel | None:
    """Check that ``path`` exists on the device; its resource definition (``None`` above).

    Raises what the tree would: 4.05 for the root, 4.01 for the Security
    object, 4.04 for an object, instance, resource or resource instance that
    is not there (``new_instance``: a resource instance may be new, as a Write
    adds it). Used before a payload is looked at, so that an unknown target is
    4.04 whatever the payload.
    """
    if not path:
        raise MethodNotAllowed("/: the root is not a target of this operation")
    if path[0] == SECURITY:
        raise Unauthorized(f"{path}: the Security object (0) is not accessible to a LwM2M Server")
    model = tree.model(path[0])
    if len(path) < 2:
        return None
    if path[1] not in tree.instances(path[0]):
        raise NotFound(f"{path}: object {path[0]} ({model.name}) has no instance {path[1]}")
    if len(path) < 3:
        return None
    resource = model.resources.get(path[2])
    stored = tree.stored(path[0], path[1], path[2], raw=True)
    if resource is None or stored is None:
        raise NotFound(f"{path}: no resource {path[2]} in {path[:2]!s}")
    if len(path) == 4 and not (isinstance(stored, dict) and (new_instance or path[3] in stored)):
        raise NotFound(f"{path}: no resource instance {path[3]}")
    return resource


def resource_at(tree: ObjectTree, path: Path) -> ResourceModel | None:
    """The definition of the resource ``path`` names (``None`` above resource level or unknown)."""
    if len(path) < 3:
        return None
    try:
        return tree.model(path[0]).resources.get(path[2])
    except NotFound:
        return None


def is_single_value(node: Node) -> bool:
    """Whether ``node`` holds one value (text, opaque and CBOR can carry it)."""
    return isinstance(node, SingleResource | ResourceInstance)


def observed_value(node: Node) -> Value | None:
    """The value notification decisions compare (``None`` for containers)."""
    if isinstance(node, SingleResource | ResourceInstance):
        return node.value
    return None


def answer_format(
    tree: ObjectTree,
    path: Path,
    node: Node,
    accept: int | None,
    lwm2m_version: str,
    preferred: ContentFormat | None,
) -> ContentFormat:
    """The format a Read/Observe answer of ``node`` at ``path`` uses (4.06 if none fits)."""
    resource = resource_at(tree, path)
    return choose_format(
        accept,
        path,
        lwm2m_version,
        preferred,
        is_single_value(node),
        resource_type=resource.type if resource is not None else None,
    )


def encode_node(fmt: ContentFormat, node: Node, path: Path, models: ModelRegistry) -> bytes:
    """``node`` at ``path`` in ``fmt``."""
    return encode(fmt, node, path, models)


def read_composite(tree: ObjectTree, paths: Iterable[Path]) -> Composite:
    """The nodes at ``paths``; a path that does not exist is left out (4.04 if none exists).

    The root path stands for every object the server may read.
    """
    nodes: dict[Path, Node | None] = {}
    for path in paths:
        targets = [path] if path else [Path(o) for o in tree.object_versions() if o != SECURITY]
        for target in targets:
            try:
                nodes[target] = tree.read(target)
            except NotFound:
                continue
    if not nodes:
        raise NotFound("none of the requested paths exists")
    return Composite(nodes)


def encode_composite_answer(
    fmt: ContentFormat, composite: Composite, models: ModelRegistry, order: Sequence[Path]
) -> bytes:
    """A Read-Composite answer or composite notification, values in request order."""
    return encode_composite(fmt, composite, models, order=order)
