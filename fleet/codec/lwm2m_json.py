"""LwM2M JSON (11543), the LwM2M 1.0 JSON format (``application/vnd.oma.lwm2m+json``).

A JSON object with a base name ``bn``, an optional base time ``bt`` and an
array ``e`` of entries. Each entry has a name ``n`` (appended to ``bn``), an
optional time ``t`` (relative to ``bt``) and one value: ``v`` for numbers,
``bv`` for Booleans, ``sv`` for strings (and Opaque as base64), ``ov`` for an
Objlnk (``"3:0"``). Names that do not start with ``/`` once resolved are taken
relative to the request path, as LwM2M 1.0 payloads without ``bn`` are.

LwM2M 1.1 clients should use SenML instead, but servers still read this.
"""

from __future__ import annotations

from typing import Final

from fleet.codec.base import ModelView, assemble, assemble_composite, composite_leaves, typed_leaves
from fleet.codec.formats import ContentFormat
from fleet.codec.senml import MAX_NAME
from fleet.codec.senml_json import dumps_json, loads_json
from fleet.codec.values import (
    INTEGER_TYPES,
    TEXT_TYPES,
    b64_decode,
    b64_std,
    fail,
    number,
    objlnk_from_text,
)
from fleet.errors import CodecError, PathError
from fleet.model import Composite, Node, ObjectLink, Path, ResourceModel, ResourceType, Value

T = ResourceType
_VALUE_KEYS: Final = ("v", "sv", "bv", "ov")


def _entry(path: Path, relative: str, resource: ResourceModel, value: Value) -> dict[str, object]:
    entry: dict[str, object] = {"n": relative}
    if isinstance(value, bool):
        entry["bv"] = value
    elif isinstance(value, ObjectLink):
        entry["ov"] = str(value)
    elif isinstance(value, bytes):
        entry["sv"] = b64_std(value)
    elif isinstance(value, str):
        entry["sv"] = value
    else:
        entry["v"] = value
    return entry


def _value(path: Path, resource: ResourceModel, key: str, raw: object) -> object:
    type_ = resource.type
    if key == "v" and isinstance(raw, int | float) and not isinstance(raw, bool):
        if type_ in INTEGER_TYPES or type_ is T.FLOAT:
            return number(path, resource, raw)
    elif (key == "bv" and isinstance(raw, bool) and type_ is T.BOOLEAN) or (
        key == "sv" and isinstance(raw, str) and type_ in TEXT_TYPES
    ):
        return raw
    elif key == "sv" and isinstance(raw, str) and type_ is T.OPAQUE:
        return b64_decode(path, raw)
    elif key in ("ov", "sv") and isinstance(raw, str) and type_ is T.OBJLNK:
        return objlnk_from_text(path, raw)
    raise fail(path, f"LwM2M JSON {key!r} {type(raw).__name__} cannot hold a {type_.value}")


class Lwm2mJsonCodec:
    """``{"bn": ..., "e": [...]}`` for nodes at any level (and composites under ``bn: "/"``)."""

    content_format = ContentFormat.LWM2M_JSON

    def encode(self, node: Node | Composite, path: Path, view: ModelView) -> bytes:
        if isinstance(node, Composite):
            leaves = list(composite_leaves(node, view))
            base = Path()
        else:
            leaves = list(typed_leaves(node, path, view))
            single = len(leaves) == 1 and leaves[0][0] == path
            base = path.parent if single or len(path) == 4 else path
        prefix = len(base)
        entries = [
            _entry(p, "/".join(str(i) for i in p[prefix:]), resource, value)
            for p, resource, value in leaves
        ]
        bn = "/" if not base else f"{base}/"
        return dumps_json({"bn": bn, "e": entries})

    def decode(self, payload: bytes, path: Path, view: ModelView) -> Node | Composite:
        data = loads_json(payload) if payload else {"e": []}
        if not isinstance(data, dict) or not isinstance(data.get("e"), list):
            raise CodecError('LwM2M JSON is an object with an "e" array')
        bn = data.get("bn", "")
        if not isinstance(bn, str) or len(bn) > MAX_NAME:
            raise CodecError(f'LwM2M JSON "bn" must be a path of at most {MAX_NAME} characters')
        bt = data.get("bt")
        if bt is not None and (isinstance(bt, bool) or not isinstance(bt, int | float)):
            raise CodecError('LwM2M JSON "bt" must be a number')
        leaves: dict[Path, Value] = {}
        for index, item in enumerate(data["e"]):
            leaf, key, raw = self._name_and_value(item, index, bn, path)
            if leaf in leaves:
                raise fail(leaf, "appears twice in the LwM2M JSON payload")
            resource = view.resource(leaf)
            if resource is None:
                continue
            leaves[leaf] = view.value(leaf, resource, _value(leaf, resource, key, raw))
        if not path:
            return assemble_composite(leaves, view)
        if len(path) >= 3 and not leaves:
            resource = view.need(path)
            if not resource.multiple or len(path) == 4:
                raise fail(path, "the LwM2M JSON payload holds no value for this resource")
        return assemble(path, leaves, view)

    @staticmethod
    def _name_and_value(item: object, index: int, bn: str, path: Path) -> tuple[Path, str, object]:
        if not isinstance(item, dict):
            raise CodecError(f"LwM2M JSON entry {index} is not an object")
        n = item.get("n", "")
        t = item.get("t")
        if not isinstance(n, str):
            raise CodecError(f"LwM2M JSON entry {index}: n must be a string")
        if t is not None and (isinstance(t, bool) or not isinstance(t, int | float)):
            raise CodecError(f"LwM2M JSON entry {index}: t must be a number")
        keys = [k for k in _VALUE_KEYS if k in item]
        if len(keys) != 1:
            raise CodecError(f"LwM2M JSON entry {index} needs one of v, sv, bv, ov")
        name = bn + n
        if not name.startswith("/"):
            name = f"{path}/{name}" if path else f"/{name}"
        try:
            leaf = Path.parse(name)
        except PathError as exc:
            raise CodecError(f"LwM2M JSON entry {index}: {exc}") from None
        if not path.contains(leaf):
            raise fail(leaf, f"lies outside the request path {path}")
        if len(leaf) < 3:
            raise fail(leaf, "a value needs a resource or resource instance path")
        return leaf, keys[0], item[keys[0]]
