"""text/plain (0), application/octet-stream (42) and CBOR (60): one value per payload.

These three formats carry the value of one single-instance resource or one
resource instance, nothing larger (LwM2M Core 1.1 §7.4.1-§7.4.3):

- plain text is the UTF-8 text of Appendix C: decimal numbers, ``0``/``1``
  for Booleans, base64 for Opaque, ``3:0`` for an Objlnk;
- opaque is the raw bytes, for Opaque resources only;
- CBOR is one data item: integers, floats (any width on decode, 64-bit on
  encode), text, byte strings, true/false; an Objlnk is the text ``"3:0"`` and a
  Time an integer (tag 1 and tag 0 accepted on decode).
"""

from __future__ import annotations

from fleet.codec import cborwire
from fleet.codec.base import ModelView, check_node
from fleet.codec.formats import ContentFormat
from fleet.codec.values import fail, from_cbor, from_text, to_cbor, to_text
from fleet.model import (
    Composite,
    Node,
    Path,
    ResourceInstance,
    ResourceModel,
    ResourceType,
    SingleResource,
    Value,
)


def _single(node: Node | Composite, path: Path, view: ModelView) -> tuple[ResourceModel, Value]:
    """The one value a single-value format can carry, or :class:`CodecError`."""
    if not isinstance(node, SingleResource | ResourceInstance):
        what = "a composite" if isinstance(node, Composite) else type(node).__name__
        raise fail(path, f"this format carries one value, not {what}")
    check_node(node, path, view)
    return view.need(path), node.value


def _target(path: Path, view: ModelView) -> ResourceModel | None:
    """The resource a single-value payload is written to, or an error."""
    if len(path) not in (3, 4):
        raise fail(path, "a single value belongs to a resource or a resource instance")
    resource = view.resource(path)
    if resource is not None and resource.multiple and len(path) == 3:
        raise fail(path, f"{resource.name} is multiple-instance: one value cannot fill it")
    if resource is not None and not resource.multiple and len(path) == 4:
        raise fail(path, f"resource {resource.name} has no instances")
    return resource


def _node(path: Path, value: Value) -> Node:
    if len(path) == 4:
        return ResourceInstance(path[3], value)
    return SingleResource(path[2], value)


class TextCodec:
    """text/plain: the UTF-8 text of one value."""

    content_format = ContentFormat.TEXT

    def encode(self, node: Node | Composite, path: Path, view: ModelView) -> bytes:
        resource, value = _single(node, path, view)
        return to_text(path, resource, value).encode("utf-8")

    def decode(self, payload: bytes, path: Path, view: ModelView) -> Node | Composite:
        resource = _target(path, view)
        try:
            text = payload.decode("utf-8")
        except UnicodeDecodeError:
            raise fail(path, "text/plain payload is not UTF-8") from None
        if resource is None:
            raise fail(path, "no definition to read this text with")
        return _node(path, view.value(path, resource, from_text(path, resource, text)))


class OpaqueCodec:
    """application/octet-stream: the bytes of an Opaque resource."""

    content_format = ContentFormat.OPAQUE

    def encode(self, node: Node | Composite, path: Path, view: ModelView) -> bytes:
        resource, value = _single(node, path, view)
        if resource.type is not ResourceType.OPAQUE or not isinstance(value, bytes):
            raise fail(path, f"opaque format carries Opaque values, not {resource.type.value}")
        return value

    def decode(self, payload: bytes, path: Path, view: ModelView) -> Node | Composite:
        resource = _target(path, view)
        if resource is None:
            raise fail(path, "no definition to read this payload with")
        if resource.type is not ResourceType.OPAQUE:
            raise fail(path, f"opaque format carries Opaque values, not {resource.type.value}")
        return _node(path, view.value(path, resource, bytes(payload)))


class CborCodec:
    """application/cbor: one CBOR data item."""

    content_format = ContentFormat.CBOR

    def encode(self, node: Node | Composite, path: Path, view: ModelView) -> bytes:
        resource, value = _single(node, path, view)
        return cborwire.dumps(to_cbor(path, resource, value))

    def decode(self, payload: bytes, path: Path, view: ModelView) -> Node | Composite:
        resource = _target(path, view)
        item = cborwire.loads(payload)
        if resource is None:
            raise fail(path, "no definition to read this item with")
        return _node(path, view.value(path, resource, from_cbor(path, resource, item)))
