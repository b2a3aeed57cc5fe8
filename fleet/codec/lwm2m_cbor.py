"""LwM2M CBOR (11544, LwM2M 1.2): nested CBOR maps keyed by ids.

The payload is a map whose keys are ids, or arrays of ids that stand for a
chain of single keys (``{[3, 0, 0]: "x"}`` is ``{3: {0: {0: "x"}}}``). Paths
always start at the root, whatever the request path. A multiple-instance
resource is a map of resource instance ids to values; values are CBOR items as
in the CBOR format (Objlnk as ``"3:0"``, Time as an integer).

The writer reproduces the layout of the LwM2M Core 1.2 examples: the path of
each node it writes (the request path, or each path of a composite) is
reached through one array key that collapses the chain of single keys leading
to it (one id alone is written as a plain integer), and the node itself is
written as plain nested maps. An empty object, instance or multiple-instance
resource is an empty map. The reader accepts any mix of the two key styles.
"""

from __future__ import annotations

from typing import Final

from fleet.codec import cborwire
from fleet.codec.base import ModelView, assemble, assemble_composite, check_node
from fleet.codec.formats import ContentFormat
from fleet.codec.values import fail, from_cbor, to_cbor
from fleet.errors import CodecError
from fleet.model import (
    Composite,
    MultiResource,
    Node,
    ObjectInstance,
    Path,
    ResourceInstance,
    SingleResource,
    Value,
)
from fleet.model.path import MAX_ID

Key = int | tuple[int, ...]
_MAX_LEVEL: Final = 4


class _Trie:
    __slots__ = ("children", "node")

    def __init__(self) -> None:
        self.children: dict[int, _Trie] = {}
        self.node: Node | None = None


def _node_item(node: Node, path: Path, view: ModelView) -> object:
    if isinstance(node, SingleResource | ResourceInstance):
        return to_cbor(path, view.need(path), node.value)
    if isinstance(node, MultiResource):
        resource = view.need(path)
        return {ri: to_cbor(path.child(ri), resource, v) for ri, v in node.instances.items()}
    if isinstance(node, ObjectInstance):
        return {rid: _node_item(res, path.child(rid), view) for rid, res in node.resources.items()}
    return {iid: _node_item(inst, path.child(iid), view) for iid, inst in node.instances.items()}


def _emit(trie: _Trie, path: Path, view: ModelView) -> dict[Key, object]:
    out: dict[Key, object] = {}
    for cid, child in trie.children.items():
        ids = [cid]
        while child.node is None and len(child.children) == 1:
            ((next_id, child),) = child.children.items()
            ids.append(next_id)
        child_path = Path(*path, *ids)
        key: Key = ids[0] if len(ids) == 1 else tuple(ids)
        if child.node is not None:
            if child.children:
                raise fail(child_path, "composite paths overlap")
            out[key] = _node_item(child.node, child_path, view)
        else:
            out[key] = _emit(child, child_path, view)
    return out


def _walk(
    item: object,
    prefix: tuple[int, ...],
    leaves: dict[Path, object],
    boxes: set[Path],
) -> None:
    if not isinstance(item, dict):
        if len(prefix) < 3:
            raise fail(Path(*prefix), "a value needs a resource or resource instance path")
        path = Path(*prefix)
        if path in leaves:
            raise fail(path, "appears twice in the LwM2M CBOR payload")
        leaves[path] = item
        return
    if not item and prefix:
        boxes.add(Path(*prefix))
    for key, value in item.items():
        ids = key if isinstance(key, tuple) else (key,)
        if not ids or not all(isinstance(i, int) and 0 <= i <= MAX_ID for i in ids):
            raise CodecError(f"LwM2M CBOR key {key!r:.40} is not an id or an array of ids")
        if len(prefix) + len(ids) > _MAX_LEVEL:
            raise CodecError(f"LwM2M CBOR path {(*prefix, *ids)} is deeper than 4 ids")
        _walk(value, (*prefix, *ids), leaves, boxes)


class Lwm2mCborCodec:
    """Nested maps keyed by ids, for nodes and composites."""

    content_format = ContentFormat.LWM2M_CBOR

    def encode(self, node: Node | Composite, path: Path, view: ModelView) -> bytes:
        root = _Trie()
        entries = node.nodes.items() if isinstance(node, Composite) else [(path, node)]
        for entry_path, entry in entries:
            if entry is None:
                raise fail(entry_path, "a composite to encode needs a node at every path")
            if not entry_path:
                raise fail(entry_path, "LwM2M CBOR has no node at the root path")
            check_node(entry, entry_path, view)
            trie = root
            for i in entry_path:
                trie = trie.children.setdefault(i, _Trie())
            if trie.node is not None or trie.children:
                raise fail(entry_path, "composite paths overlap")
            trie.node = entry
        return cborwire.dumps(_emit(root, Path(), view))

    def decode(self, payload: bytes, path: Path, view: ModelView) -> Node | Composite:
        item = cborwire.loads(payload)
        if not isinstance(item, dict):
            raise CodecError("an LwM2M CBOR payload is a CBOR map")
        raw: dict[Path, object] = {}
        boxes: set[Path] = set()
        _walk(item, (), raw, boxes)
        leaves: dict[Path, Value] = {}
        for leaf, value in raw.items():
            if not path.contains(leaf):
                raise fail(leaf, f"lies outside the request path {path}")
            resource = view.resource(leaf)
            if resource is not None:
                leaves[leaf] = view.value(leaf, resource, from_cbor(leaf, resource, value))
        for box in boxes:
            if not path.contains(box):
                raise fail(box, f"lies outside the request path {path}")
            if len(box) == _MAX_LEVEL:
                raise fail(box, "a resource instance holds a value, not a map")
        if not path:
            return assemble_composite(leaves, view, _known(boxes, view))
        if len(path) >= 3 and not leaves and path not in boxes:
            raise fail(path, "the LwM2M CBOR payload holds no value for this path")
        return assemble(path, leaves, view, _known(boxes, view))


def _known(boxes: set[Path], view: ModelView) -> list[Path]:
    """Empty containers whose definitions exist (a lenient view skips the others)."""
    known = []
    for box in sorted(boxes):
        if view.object_model(box[0]) is None or (len(box) >= 3 and view.resource(box) is None):
            continue
        known.append(box)
    return known
