"""LwM2M TLV (11542): the binary Type-Length-Value format, at every path level.

Layout (LwM2M Core 1.1 §7.4.3): a type byte, an identifier of 8 or 16 bits, an
optional length field of 8, 16 or 24 bits, then the value.

=========  ====================================================================
type bits  meaning
=========  ====================================================================
7-6        00 object instance, 01 resource instance, 10 multiple resource,
           11 resource with a value
5          identifier length: 0 = 8 bits, 1 = 16 bits
4-3        length type: 00 = length in bits 2-0, 01/10/11 = 8/16/24-bit field
2-0        the value's length when bits 4-3 are 00 (ignored otherwise)
=========  ====================================================================

What the payload holds depends on the request path: object instance TLVs for
an object, resource TLVs for an instance (a single wrapping instance TLV with
the path's id is accepted too), one resource or multiple-resource TLV for a
resource, one resource instance TLV for a resource instance.

Values (Appendix C): Integer and Time are 1, 2, 4 or 8 byte two's complement
(encoded in the fewest), Unsigned Integer 1, 2, 4 or 8 bytes unsigned, Float 4
or 8 byte IEEE 754 (encoded in 8), Boolean one byte 0 or 1, String and Corelnk
UTF-8, Opaque raw, Objlnk two 16-bit unsigned integers.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from typing import Final, NamedTuple

from fleet.codec.base import ModelView, check_node
from fleet.codec.formats import ContentFormat
from fleet.codec.values import expect, fail
from fleet.model import (
    Composite,
    MultiResource,
    Node,
    ObjectInstance,
    ObjectLink,
    ObjectNode,
    Path,
    ResourceInstance,
    ResourceModel,
    ResourceType,
    SingleResource,
    Value,
)
from fleet.model.nodes import ResourceNode

OBJECT_INSTANCE: Final = 0
RESOURCE_INSTANCE: Final = 1
MULTIPLE_RESOURCE: Final = 2
RESOURCE: Final = 3
MAX_LENGTH: Final = 0xFFFFFF
_KIND_NAMES: Final = ("object instance", "resource instance", "multiple resource", "resource")
T = ResourceType


class Entry(NamedTuple):
    """One parsed TLV: its kind (bits 7-6), identifier and value bytes."""

    kind: int
    id: int
    value: bytes


# ------------------------------------------------------------------ framing


def holds_instances(payload: bytes) -> bool:
    """Whether a TLV payload starts with an Object Instance entry (type bits 00), as a
    Create naming its instance does; else it holds resources only."""
    return bool(payload) and payload[0] >> 6 == OBJECT_INSTANCE


def header(kind: int, id_: int, length: int) -> bytes:
    """The type byte, identifier and length field of one TLV."""
    if length > MAX_LENGTH:
        raise fail(Path(), f"a TLV value holds at most {MAX_LENGTH} bytes, not {length}")
    type_byte = kind << 6
    ident = bytes((id_,)) if id_ < 0x100 else id_.to_bytes(2, "big")
    if id_ >= 0x100:
        type_byte |= 0x20
    if length < 8:
        return bytes((type_byte | length,)) + ident
    size = 1 if length < 0x100 else 2 if length < 0x10000 else 3
    return bytes((type_byte | size << 3,)) + ident + length.to_bytes(size, "big")


def parse(payload: bytes, where: Path) -> list[Entry]:
    """Split a payload into its top-level TLVs; lengths are checked, never trusted."""
    entries: list[Entry] = []
    pos, end = 0, len(payload)
    while pos < end:
        type_byte = payload[pos]
        pos += 1
        id_size = 2 if type_byte & 0x20 else 1
        len_size = (type_byte >> 3) & 0x03
        if end - pos < id_size + len_size:
            raise fail(where, f"TLV header truncated at byte {pos - 1}")
        id_ = int.from_bytes(payload[pos : pos + id_size], "big")
        pos += id_size
        if len_size:
            length = int.from_bytes(payload[pos : pos + len_size], "big")
            pos += len_size
        else:
            length = type_byte & 0x07
        if length > end - pos:
            raise fail(where, f"TLV {id_} announces {length} bytes, {end - pos} are left")
        entries.append(Entry(type_byte >> 6, id_, payload[pos : pos + length]))
        pos += length
    return entries


# ------------------------------------------------------------------ values


def value_bytes(path: Path, resource: ResourceModel, value: Value) -> bytes:
    """The value field of a resource or resource instance TLV."""
    value = expect(path, resource, value)
    type_ = resource.type
    if isinstance(value, bool):
        return b"\x01" if value else b"\x00"
    if isinstance(value, ObjectLink):
        return struct.pack(">HH", value.object_id, value.instance_id)
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, bytes):
        return value
    if isinstance(value, float):
        return struct.pack(">d", value)
    signed = type_ is not T.UNSIGNED_INTEGER
    for size in (1, 2, 4, 8):
        try:
            return value.to_bytes(size, "big", signed=signed)
        except OverflowError:
            continue
    raise fail(path, f"{value} does not fit 64 bits")


def read_value(path: Path, resource: ResourceModel, data: bytes, view: ModelView) -> Value:
    """Interpret a TLV value field for ``resource`` and check it."""
    type_ = resource.type
    raw: object
    if type_ in (T.STRING, T.CORELNK):
        try:
            raw = data.decode("utf-8")
        except UnicodeDecodeError:
            raise fail(path, "TLV string is not UTF-8") from None
    elif type_ is T.OPAQUE:
        raw = bytes(data)
    elif type_ in (T.INTEGER, T.TIME, T.UNSIGNED_INTEGER):
        if len(data) not in (1, 2, 4, 8):
            raise fail(path, f"a TLV {type_.value} has 1, 2, 4 or 8 bytes, not {len(data)}")
        raw = int.from_bytes(data, "big", signed=type_ is not T.UNSIGNED_INTEGER)
    elif type_ is T.FLOAT:
        if len(data) == 4:
            raw = struct.unpack(">f", data)[0]
        elif len(data) == 8:
            raw = struct.unpack(">d", data)[0]
        else:
            raise fail(path, f"a TLV Float has 4 or 8 bytes, not {len(data)}")
    elif type_ is T.BOOLEAN:
        if data not in (b"\x00", b"\x01"):
            raise fail(path, f"a TLV Boolean is one byte 0 or 1, not {data.hex() or 'empty'}")
        raw = data == b"\x01"
    elif type_ is T.OBJLNK:
        if len(data) != 4:
            raise fail(path, f"a TLV Objlnk has 4 bytes, not {len(data)}")
        raw = ObjectLink(*struct.unpack(">HH", data))
    else:
        raise fail(path, f"resource {resource.id} ({resource.name}) is executable, no value")
    return view.value(path, resource, raw)


# ------------------------------------------------------------------ encode


def _resource_tlv(node: ResourceNode, path: Path, view: ModelView) -> bytes:
    check_node(node, path, view)
    resource = view.need(path)
    if isinstance(node, SingleResource):
        data = value_bytes(path, resource, node.value)
        return header(RESOURCE, node.id, len(data)) + data
    inner = b"".join(
        _instance_tlv(ri, value, path.child(ri), resource) for ri, value in node.instances.items()
    )
    return header(MULTIPLE_RESOURCE, node.id, len(inner)) + inner


def _instance_tlv(ri: int, value: Value, path: Path, resource: ResourceModel) -> bytes:
    data = value_bytes(path, resource, value)
    return header(RESOURCE_INSTANCE, ri, len(data)) + data


def _resources(node: ObjectInstance, path: Path, view: ModelView) -> bytes:
    return b"".join(_resource_tlv(r, path.child(rid), view) for rid, r in node.resources.items())


class TlvCodec:
    """LwM2M TLV at object, instance, resource and resource instance level."""

    content_format = ContentFormat.TLV

    def encode(self, node: Node | Composite, path: Path, view: ModelView) -> bytes:
        if isinstance(node, Composite):
            raise fail(path, "TLV cannot carry a composite")
        check_node(node, path, view)
        if isinstance(node, ObjectNode):
            parts = []
            for iid, inst in node.instances.items():
                body = _resources(inst, path.child(iid), view)
                parts.append(header(OBJECT_INSTANCE, iid, len(body)) + body)
            return b"".join(parts)
        if isinstance(node, ObjectInstance):
            return _resources(node, path, view)
        if isinstance(node, ResourceInstance):
            return _instance_tlv(node.id, node.value, path, view.need(path))
        return _resource_tlv(node, path, view)

    def decode(self, payload: bytes, path: Path, view: ModelView) -> Node | Composite:
        level = len(path)
        if level == 0:
            raise fail(path, "TLV cannot carry a composite")
        entries = parse(payload, path)
        if level == 1:
            instances: dict[int, ObjectInstance] = {}
            for entry in _only(entries, OBJECT_INSTANCE, path):
                child = path.child(entry.id)
                _unique(instances, entry.id, child)
                instances[entry.id] = self._instance(parse(entry.value, child), child, view)
            return ObjectNode(path[0], instances)
        if level == 2:
            if len(entries) == 1 and entries[0].kind == OBJECT_INSTANCE:
                if entries[0].id != path[1]:
                    raise fail(path, f"TLV holds object instance {entries[0].id}")
                entries = parse(entries[0].value, path)
            return self._instance(entries, path, view)
        if len(entries) != 1:
            raise fail(path, f"expected one TLV for this path, found {len(entries)}")
        entry = entries[0]
        if level == 4:
            resource = _resource_of(path, view)
            if entry.kind != RESOURCE_INSTANCE or entry.id != path[3]:
                raise fail(path, f"expected resource instance TLV {path[3]}, got {_name(entry)}")
            if not resource.multiple:
                raise fail(path, f"resource {resource.name} has no instances")
            return ResourceInstance(path[3], read_value(path, resource, entry.value, view))
        if entry.id != path[2]:
            raise fail(path, f"TLV names resource {entry.id}")
        node = self._resource(entry, path, view)
        if node is None:
            raise fail(path, "no definition for this resource")
        return node

    def _instance(self, entries: list[Entry], path: Path, view: ModelView) -> ObjectInstance:
        resources: dict[int, ResourceNode] = {}
        for entry in entries:
            child = path.child(entry.id)
            if entry.kind not in (RESOURCE, MULTIPLE_RESOURCE):
                raise fail(child, f"expected a resource TLV, got {_name(entry)}")
            _unique(resources, entry.id, child)
            node = self._resource(entry, child, view)
            if node is not None:
                resources[entry.id] = node
        return ObjectInstance(path[1], resources)

    def _resource(self, entry: Entry, path: Path, view: ModelView) -> ResourceNode | None:
        resource = view.resource(path)
        if resource is None:
            return None
        if entry.kind == RESOURCE:
            if resource.multiple:
                raise fail(path, f"{resource.name} is multiple-instance: expected a multiple TLV")
            return SingleResource(entry.id, read_value(path, resource, entry.value, view))
        if entry.kind != MULTIPLE_RESOURCE:
            raise fail(path, f"expected a resource TLV, got {_name(entry)}")
        if not resource.multiple:
            raise fail(path, f"{resource.name} is single-instance: got a multiple resource TLV")
        instances: dict[int, Value] = {}
        for inner in parse(entry.value, path):
            child = path.child(inner.id)
            if inner.kind != RESOURCE_INSTANCE:
                raise fail(child, f"expected a resource instance TLV, got {_name(inner)}")
            _unique(instances, inner.id, child)
            instances[inner.id] = read_value(child, resource, inner.value, view)
        return MultiResource(entry.id, instances)


def _resource_of(path: Path, view: ModelView) -> ResourceModel:
    resource = view.resource(path)
    if resource is None:
        raise fail(path, "no definition for this resource")
    return resource


def _only(entries: list[Entry], kind: int, path: Path) -> list[Entry]:
    for entry in entries:
        if entry.kind != kind:
            raise fail(path, f"expected {_KIND_NAMES[kind]} TLVs, got {_name(entry)}")
    return entries


def _unique(seen: Mapping[int, object], id_: int, path: Path) -> None:
    if id_ in seen:
        raise fail(path, "appears twice in the TLV payload")


def _name(entry: Entry) -> str:
    return f"{_KIND_NAMES[entry.kind]} TLV {entry.id}"
