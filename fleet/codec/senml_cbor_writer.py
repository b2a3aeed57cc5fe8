"""SenML CBOR written once: a Read's values straight to bytes, no records in between.

The general SenML path (:mod:`fleet.codec.senml`) walks a node into checked
leaves, turns them into :class:`~fleet.codec.senml.Record` tuples, then into
CBOR maps, then writes those item by item. For the answer a device gives most
often (a Read or notification of a single resource, a resource instance, a
multiple-instance resource, an object instance or an object, no time) this
module writes the same bytes in one pass over the node:

- the CBOR of each record's head (map size, ``bn`` on the first record, the
  relative name ``n`` and the value's label) depends only on the request path,
  the leaf's ids below it and the value field, never on the value: it is
  encoded once and kept (:data:`MAX_PREFIXES` entries, then started afresh);
- values are written by exact Python type (``str``, ``int``, ``float``,
  ``bool``, ``bytes``, :class:`~fleet.model.ObjectLink`) against the
  resource's type, as :func:`fleet.codec.values.expect` and
  :func:`fleet.codec.senml.field_of` would.

Anything unusual (a value of the wrong type or a subclass, an executable
resource, an unknown resource, a node that does not fit its path, an integer
beyond 64 bits) makes :func:`encode_read` give ``None``: the caller then uses
the general path, which writes the same bytes or raises the error it always
raised. So this module changes speed, never output
(``tests/codec/test_senml_cbor_writer.py`` compares both on every shape).
"""

from __future__ import annotations

import struct
from typing import Final

from fleet.codec.base import ModelView
from fleet.errors import CodecError
from fleet.model import (
    MultiResource,
    Node,
    ObjectInstance,
    ObjectLink,
    ObjectModel,
    ObjectNode,
    Path,
    ResourceInstance,
    ResourceModel,
    ResourceType,
    SingleResource,
)

T = ResourceType
MAX_PREFIXES: Final = 4096
"""Record heads kept; past this the cache is cleared (a fleet shares a few layouts)."""

_DOUBLE: Final = struct.Struct(">Bd")
_UINT64_MAX: Final = 2**64 - 1
# SenML CBOR labels (RFC 8428 §6): bn -2, n 0, v 2, vs 3, vb 4, vd 8, and LwM2M's "vlo"
_BN, _N = b"\x21", b"\x00"
_V, _VS, _VB, _VD, _VLO = 2, 3, 4, 8, 5  # index into _FIELD_KEYS
_FIELD_KEYS: Final = {_V: b"\x02", _VS: b"\x03", _VB: b"\x04", _VD: b"\x08", _VLO: b"\x63vlo"}

_prefixes: dict[tuple[object, ...], bytes] = {}


def _head(major: int, value: int) -> bytes:
    top = major << 5
    if value < 24:
        return bytes((top | value,))
    if value < 0x100:
        return bytes((top | 24, value))
    if value < 0x10000:
        return bytes((top | 25,)) + value.to_bytes(2, "big")
    if value < 0x100000000:
        return bytes((top | 26,)) + value.to_bytes(4, "big")
    return bytes((top | 27,)) + value.to_bytes(8, "big")


def _text(text: str) -> bytes:
    data = text.encode("utf-8")
    return _head(3, len(data)) + data


def _prefix(path: Path, rel: tuple[int, ...], field: int, first: bool) -> bytes:
    """The CBOR of one record up to its value (see the module docstring)."""
    key = (path, rel, field, first)
    found = _prefixes.get(key)
    if found is not None:
        return found
    if not rel:  # the request path names the value itself: {bn: "/3/0/0", <field>: ...}
        head = b"\xa2" + _BN + _text(str(path))
    elif first:  # {bn: "/3/0/", n: "0", <field>: ...}
        head = b"\xa3" + _BN + _text(f"{path}/") + _N + _text("/".join(map(str, rel)))
    else:
        head = b"\xa2" + _N + _text("/".join(map(str, rel)))
    found = head + _FIELD_KEYS[field]
    if len(_prefixes) >= MAX_PREFIXES:
        _prefixes.clear()
    _prefixes[key] = found
    return found


# keyed by the type's text: an Enum member hashes in Python, its ``_value_`` string in C
_FIELDS: Final = {
    t._value_: field
    for t, field in (
        (T.INTEGER, _V),
        (T.UNSIGNED_INTEGER, _V),
        (T.TIME, _V),
        (T.FLOAT, _V),
        (T.STRING, _VS),
        (T.CORELNK, _VS),
        (T.BOOLEAN, _VB),
        (T.OPAQUE, _VD),
        (T.OBJLNK, _VLO),
    )
}
_STRING, _CORELNK, _FLOAT, _BOOLEAN, _OPAQUE, _OBJLNK = (
    T.STRING,
    T.CORELNK,
    T.FLOAT,
    T.BOOLEAN,
    T.OPAQUE,
    T.OBJLNK,
)
_INTEGER, _UNSIGNED, _TIME = T.INTEGER, T.UNSIGNED_INTEGER, T.TIME
_SMALL: Final = tuple(bytes((number,)) for number in range(24))
MAX_TEXT_KEPT: Final = 64
"""Longest text whose CBOR is kept (names, versions, serial numbers repeat)."""
_texts: dict[str, bytes] = {}


def _value(type_: ResourceType, value: object) -> bytes | None:
    """The CBOR of ``value`` for a resource of ``type_``; ``None`` when unusual."""
    kind = type(value)
    if kind is str:
        if type_ is not _STRING and type_ is not _CORELNK:
            return None
        text: str = value  # type: ignore[assignment]
        found = _texts.get(text)
        if found is None:
            found = _text(text)
            if len(text) <= MAX_TEXT_KEPT:
                if len(_texts) >= MAX_PREFIXES:
                    _texts.clear()
                _texts[text] = found
        return found
    if kind is int:
        number: int = value  # type: ignore[assignment]
        if type_ is _INTEGER or type_ is _UNSIGNED or type_ is _TIME:
            if 0 <= number < 24:
                return _SMALL[number]
            if 0 <= number <= _UINT64_MAX:
                return _head(0, number)
            if -(2**64) <= number < 0:
                return _head(1, -1 - number)
            return None
        if type_ is _FLOAT:
            try:
                return _DOUBLE.pack(0xFB, float(number))
            except OverflowError:
                return None
        return None
    if kind is float:
        return _DOUBLE.pack(0xFB, value) if type_ is _FLOAT else None
    if kind is bool:
        return (b"\xf5" if value else b"\xf4") if type_ is _BOOLEAN else None
    if kind is bytes:
        if type_ is _OPAQUE:
            return _head(2, len(value)) + value  # type: ignore[arg-type,operator]
        return None
    if kind is ObjectLink and type_ is _OBJLNK:
        return _text(str(value))
    return None


class _Writer:
    """The records of one answer, appended as byte strings."""

    __slots__ = ("count", "parts", "path")

    def __init__(self, path: Path) -> None:
        self.path = path
        self.parts: list[bytes] = []
        self.count = 0

    def leaf(self, rel: tuple[int, ...], type_: ResourceType, value: object) -> bool:
        data = _value(type_, value)
        if data is None:
            return False
        self.parts += (_prefix(self.path, rel, _FIELDS[type_._value_], self.count == 0), data)
        self.count += 1
        return True

    def resource(self, rel: tuple[int, ...], resource: ResourceModel, node: object) -> bool:
        """One resource node (single or multiple) below the request path."""
        type_ = resource.type
        if resource.multiple:
            if type(node) is not MultiResource:
                return False
            return all(self.leaf((*rel, ri), type_, value) for ri, value in node.instances.items())
        if type(node) is not SingleResource:
            return False
        return self.leaf(rel, type_, node.value)

    def instance(self, rel: tuple[int, ...], model: ObjectModel, node: ObjectInstance) -> bool:
        """An object instance; its single resources are written here, without calls."""
        resources = model.resources
        parts = self.parts
        path = self.path
        for rid, res_node in node.resources.items():
            resource = resources.get(rid)
            if resource is None or res_node.id != rid:
                return False
            if resource.multiple or type(res_node) is not SingleResource:
                if not self.resource((*rel, rid), resource, res_node):
                    return False
                continue
            type_ = resource.type
            data = _value(type_, res_node.value)
            if data is None:
                return False
            key = (path, (*rel, rid), _FIELDS[type_._value_], not self.count)
            head = _prefixes.get(key)
            if head is None:
                head = _prefix(*key)
            parts += (head, data)
            self.count += 1
        return True

    def finish(self) -> bytes:
        count = self.count
        return b"".join((_head(4, count), *self.parts))


def encode_read(node: Node, path: Path, view: ModelView) -> bytes | None:
    """SenML CBOR of ``node`` at ``path`` (no time), or ``None`` to use the general path."""
    if not path or node.id != path[-1]:
        return None
    try:
        model = view.object_model(path[0])
    except CodecError:  # the general path says so, where it would
        return None
    if model is None:
        return None
    writer = _Writer(path)
    try:
        written = _write(writer, model, node, path)
    except UnicodeEncodeError:  # text that is no Unicode: the general path raises it
        return None
    return writer.finish() if written else None


def _write(writer: _Writer, model: ObjectModel, node: Node, path: Path) -> bool:
    """Every value of ``node`` into ``writer``; ``False`` at the first unusual thing."""
    level = len(path)
    kind = type(node)
    if level == 2:
        return kind is ObjectInstance and writer.instance((), model, node)  # type: ignore[arg-type]
    if level == 1:
        if kind is not ObjectNode:
            return False
        for iid, inst in node.instances.items():  # type: ignore[union-attr]
            if type(inst) is not ObjectInstance or inst.id != iid:
                return False
            if not writer.instance((iid,), model, inst):
                return False
        return True
    resource = model.resources.get(path[2])
    if resource is None:
        return False
    if level == 4:
        if kind is not ResourceInstance or not resource.multiple:
            return False
        return writer.leaf((), resource.type, node.value)  # type: ignore[union-attr]
    return writer.resource((), resource, node)
