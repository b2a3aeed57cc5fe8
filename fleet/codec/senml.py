"""SenML (RFC 8428) for LwM2M: one record model, shared by the JSON and CBOR serialisers.

A :class:`Record` is one SenML record as written; :func:`resolve` applies the
base fields (``bn`` + ``n``, ``bt`` + ``t``, ``bv`` + ``v``, RFC 8428 §4.6) and
yields :class:`Resolved` records whose names are LwM2M paths. The serialisers
(:mod:`fleet.codec.senml_json`, :mod:`fleet.codec.senml_cbor`) only map records
to bytes and back; :class:`SenmlCodec` does the LwM2M part for both:

- values by type (LwM2M Core 1.1 §7.4.4-§7.4.5): numbers in ``v``, Boolean in
  ``vb``, String and Corelnk in ``vs``, Opaque in ``vd``, Objlnk in ``vlo``
  (``"3:0"``);
- names: a single value is ``{"bn": "/3/0/0"}``; deeper content has
  ``bn`` = request path + ``/`` on the first record and relative ``n``
  (``"6/0"``); a composite (request path ``/``) has full paths in ``n``;
- decoding resolves any mix of ``bn``/``n``, refuses names outside the request
  path, records without exactly one value, labels that must be understood
  (ending in ``_``) and values of the wrong type.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Final, NamedTuple, Protocol

from fleet.codec.base import Leaf, ModelView, assemble, assemble_composite, typed_leaves
from fleet.codec.base import composite_leaves as _composite_leaves
from fleet.codec.formats import ContentFormat
from fleet.codec.values import (
    INTEGER_TYPES,
    TEXT_TYPES,
    expect,
    fail,
    number,
    objlnk_from_text,
)
from fleet.errors import CodecError, PathError
from fleet.model import Composite, Node, ObjectLink, Path, ResourceModel, ResourceType, Value

VALUE_FIELDS: Final = ("v", "vs", "vb", "vd", "vlo")
MAX_NAME: Final = 255
"""Longest resolved name accepted (an LwM2M path has at most 24 characters)."""
T = ResourceType


class Record(NamedTuple):
    """One SenML record; ``None`` means the field is absent.

    Fields are in the order the serialisers write them (the LwM2M examples'
    order: base fields, name, value, time).
    """

    bn: str | None = None
    bt: int | float | None = None
    bv: int | float | None = None
    n: str | None = None
    v: int | float | None = None
    vs: str | None = None
    vb: bool | None = None
    vd: bytes | None = None
    vlo: str | None = None
    t: int | float | None = None

    def value_fields(self) -> list[str]:
        return [name for name in VALUE_FIELDS if getattr(self, name) is not None]


class Resolved(NamedTuple):
    """A record after base-field resolution: full name, time, one value (or none)."""

    name: str
    time: int | float | None
    field: str | None
    value: object


class Wire(Protocol):
    """A SenML serialisation: records to bytes and back."""

    content_format: ContentFormat

    def dump(self, records: Sequence[Record]) -> bytes: ...

    def load(self, payload: bytes) -> list[Record]: ...


class TimedValue(NamedTuple):
    """A decoded value with its resolved SenML time (``None`` when the record had none)."""

    path: Path
    value: Value
    time: int | float | None


# ------------------------------------------------------------------ resolution


def resolve(records: Iterable[Record]) -> list[Resolved]:
    """Apply base name, base time and base value (RFC 8428 §4.6)."""
    base_name, base_time, base_value = "", None, None
    out: list[Resolved] = []
    for record in records:
        if record.bn is not None:
            base_name = record.bn
        if record.bt is not None:
            base_time = record.bt
        if record.bv is not None:
            base_value = record.bv
        fields = record.value_fields()
        if len(fields) > 1:
            raise CodecError(f"a SenML record has one value, this one has {', '.join(fields)}")
        field = fields[0] if fields else None
        value = getattr(record, field) if field else None
        if base_value is not None and field in ("v", None):
            value = base_value + (value if isinstance(value, int | float) else 0)
            field = "v"
        time = record.t
        if base_time is not None:
            time = base_time + (time or 0)
        name = record.n or ""
        if len(base_name) + len(name) > MAX_NAME:
            raise CodecError(f"a SenML name longer than {MAX_NAME} characters is no LwM2M path")
        out.append(Resolved(base_name + name, time, field, value))
    return out


@functools.lru_cache(maxsize=4096)
def parse_name(name: str, *, allow_trailing_slash: bool = False) -> Path:
    """A resolved SenML name as an LwM2M path (names repeat: the answers are cached)."""
    text = name
    if allow_trailing_slash and len(text) > 1 and text.endswith("/"):
        text = text[:-1]
    if not text.startswith("/"):
        raise CodecError(f"SenML name {name!r:.60} is not an absolute LwM2M path")
    try:
        return Path.parse(text)
    except PathError as exc:
        raise CodecError(f"SenML name {name!r:.60}: {exc}") from None


# ------------------------------------------------------------------ LwM2M values


def field_of(path: Path, resource: ResourceModel, value: Value) -> tuple[str, object]:
    """The SenML value field and raw value for one LwM2M value."""
    value = expect(path, resource, value)
    if isinstance(value, bool):
        return "vb", value
    if isinstance(value, ObjectLink):
        return "vlo", str(value)
    if isinstance(value, str):
        return "vs", value
    if isinstance(value, bytes):
        return "vd", value
    return "v", value


def value_of(path: Path, resource: ResourceModel, field: str | None, raw: object) -> object:
    """The Python value of a resolved record for ``resource`` (still to be checked)."""
    type_ = resource.type
    if field is None:
        raise fail(path, "SenML record has no value")
    if field == "v" and (type_ in INTEGER_TYPES or type_ is T.FLOAT):
        return number(path, resource, raw)
    if field == "vb" and type_ is T.BOOLEAN:
        return raw
    if field == "vs" and type_ in TEXT_TYPES:
        return raw
    if field in ("vlo", "vs") and type_ is T.OBJLNK and isinstance(raw, str):
        return objlnk_from_text(path, raw)
    if field == "vd" and type_ is T.OPAQUE:
        return raw
    raise fail(path, f"SenML field {field!r} cannot hold a {type_.value} value")


def records_for(
    leaves: Sequence[Leaf], path: Path, time: int | float | None = None
) -> list[Record]:
    """SenML records for values under ``path`` (the request path), naming as in §7.4.4."""
    records: list[Record] = []
    if not path:
        for leaf_path, resource, value in leaves:
            field, raw = field_of(leaf_path, resource, value)
            records.append(_record(None, str(leaf_path), field, raw))
    elif len(leaves) == 1 and leaves[0][0] == path:
        field, raw = field_of(*leaves[0])
        records.append(_record(str(path), None, field, raw))
    else:
        prefix = len(path)
        for leaf_path, resource, value in leaves:
            field, raw = field_of(leaf_path, resource, value)
            name = "/".join(str(i) for i in leaf_path[prefix:])
            records.append(_record(None if records else f"{path}/", name, field, raw))
    if time is not None and records:
        records[0] = records[0]._replace(bt=time)
    return records


def _record(bn: str | None, n: str | None, field: str, raw: object) -> Record:
    return Record(bn=bn, n=n, **{field: raw})  # type: ignore[arg-type]


def read_values(
    resolved: Iterable[Resolved], path: Path, view: ModelView
) -> list[tuple[Path, Value, int | float | None]]:
    """Typed, checked values of records under ``path`` (unknown ones skipped if lenient)."""
    out: list[tuple[Path, Value, int | float | None]] = []
    for record in resolved:
        leaf = parse_name(record.name)
        if not path.contains(leaf):
            raise fail(leaf, f"lies outside the request path {path}")
        resource = view.resource(leaf)
        if resource is None:
            continue
        raw = value_of(leaf, resource, record.field, record.value)
        out.append((leaf, view.value(leaf, resource, raw), record.time))
    return out


# ------------------------------------------------------------------ the codec


class SenmlCodec:
    """SenML JSON or CBOR for nodes and composites, over one :class:`Wire`."""

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.content_format = wire.content_format

    def encode(self, node: Node | Composite, path: Path, view: ModelView) -> bytes:
        return self.wire.dump(self.records(node, path, view))

    def records(
        self, node: Node | Composite, path: Path, view: ModelView, time: float | None = None
    ) -> list[Record]:
        if isinstance(node, Composite):
            if node.nodes and all(n is None for n in node.nodes.values()):
                return [Record(n=str(p)) for p in node.nodes]
            return records_for(list(_composite_leaves(node, view)), Path(), time)
        return records_for(list(typed_leaves(node, path, view)), path, time)

    def decode(self, payload: bytes, path: Path, view: ModelView) -> Node | Composite:
        leaves: dict[Path, Value] = {}
        for leaf, value, _ in self.timed(payload, path, view):
            if leaf in leaves:
                raise fail(leaf, "appears twice in the SenML pack")
            leaves[leaf] = value
        if not path:
            return assemble_composite(leaves, view)
        if len(path) >= 3 and not leaves:
            resource = view.need(path)
            if not resource.multiple or len(path) == 4:
                raise fail(path, "the SenML pack holds no value for this resource")
        return assemble(path, leaves, view)

    def timed(
        self, payload: bytes, path: Path, view: ModelView
    ) -> list[tuple[Path, Value, int | float | None]]:
        """Every value with its resolved time, duplicates kept (historical notifications)."""
        records = self.wire.load(payload) if payload else []
        return read_values(resolve(records), path, view)

    def paths(self, payload: bytes) -> list[Path]:
        """The paths of a Read-Composite or Observe-Composite request (records without values)."""
        records = self.wire.load(payload)
        if not records:
            raise CodecError("a composite request names at least one path")
        out: list[Path] = []
        for record in resolve(records):
            if record.field is not None:
                raise CodecError(f"composite request record {record.name!r:.60} has a value")
            out.append(parse_name(record.name, allow_trailing_slash=True))
        return out

    def encode_paths(self, paths: Iterable[Path]) -> bytes:
        return self.wire.dump([Record(n=str(p)) for p in paths])
