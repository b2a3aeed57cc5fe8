"""Container kinds: lists, mappings with converted keys, records with known keys, variants.

Like the scalar kinds of :mod:`fleet.scenario.kinds`, each one checks a value
(reporting through a :class:`~fleet.scenario.kinds.Context`) and describes
itself in JSON Schema. A :class:`Record` is a mapping with declared
:class:`Field` objects: unknown keys are reported with a "did you mean"
suggestion, missing required keys are reported, absent keys get their
default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from fleet.scenario.kinds import INVALID, JSON, NO_DEFAULT, Context, Kind, label
from fleet.scenario.problems import KeyPath, suggest


@dataclass(frozen=True)
class ListOf(Kind):
    item: Kind
    min_items: int = 0
    single: bool = False
    """Also accept one item without a list."""

    def schema(self) -> JSON:
        array: JSON = {"type": "array", "items": self.item.schema()}
        if self.min_items:
            array["minItems"] = self.min_items
        if self.single:
            return {"anyOf": [array, self.item.schema()]}
        return array

    def check(self, value: object, path: KeyPath, ctx: Context) -> object:
        if not isinstance(value, list):
            if self.single and value is not None and not isinstance(value, dict):
                return [self.item.check(value, path, ctx)]
            return self.wrong(value, path, ctx, "a list")
        if len(value) < self.min_items:
            return ctx.error(path, f"{label(path)} needs at least {self.min_items} item(s)")
        return [self.item.check(item, (*path, i), ctx) for i, item in enumerate(value)]


@dataclass(frozen=True)
class Key:
    """How a mapping's keys are checked: ``parse(key)`` converts or raises ValueError."""

    parse: Callable[[object], object]
    json_schema: JSON
    what: str


class Entries(dict[object, object]):
    """A checked mapping: converted keys, and ``raw_keys`` to find each key in the document."""

    def __init__(self) -> None:
        super().__init__()
        self.raw_keys: dict[object, object] = {}


@dataclass(frozen=True)
class MapOf(Kind):
    key: Key
    value: Kind

    def schema(self) -> JSON:
        return {
            "type": "object",
            "propertyNames": self.key.json_schema,
            "additionalProperties": self.value.schema(),
        }

    def check(self, value: object, path: KeyPath, ctx: Context) -> object:
        if not isinstance(value, dict):
            return self.wrong(value, path, ctx, f"a mapping of {self.key.what} to values")
        result = Entries()
        for raw_key, item in value.items():
            where = (*path, raw_key)
            try:
                key = self.key.parse(raw_key)
            except ValueError as exc:
                ctx.error(where, f"{label(path)}: {exc}", at_key=True)
                continue
            if key in result:
                ctx.error(where, f"{label(path)}: {key} is given twice", at_key=True)
                continue
            result[key] = self.value.check(item, where, ctx)
            result.raw_keys[key] = raw_key
        return result


@dataclass(frozen=True)
class Field:
    key: str
    kind: Kind
    description: str
    required: bool = False
    default: object = NO_DEFAULT
    """The converted value used when the key is absent (``None`` if no default)."""
    schema_default: object = NO_DEFAULT
    """The default as a file writes it, for the JSON Schema."""


@dataclass(frozen=True)
class Record(Kind):
    """A mapping with known keys; unknown keys are errors with a suggestion."""

    title: str
    description: str
    fields: tuple[Field, ...]
    by_key: Mapping[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {f.key: f for f in self.fields})

    def schema(self) -> JSON:
        properties: JSON = {}
        for f in self.fields:
            prop = {"description": f.description, **f.kind.schema()}
            if f.schema_default is not NO_DEFAULT:
                prop["default"] = f.schema_default
            properties[f.key] = prop
        result: JSON = {
            "title": self.title,
            "description": self.description,
            "type": "object",
            "properties": properties,
            "additionalProperties": False,
        }
        required = [f.key for f in self.fields if f.required]
        if required:
            result["required"] = required
        return result

    def check(self, value: object, path: KeyPath, ctx: Context) -> object:
        if not isinstance(value, dict):
            return self.wrong(value, path, ctx, f"a mapping ({self.title})")
        result: dict[str, object] = {}
        for key, item in value.items():
            spec = self.by_key.get(key) if isinstance(key, str) else None
            if spec is None:
                hint = suggest(key, self.by_key)
                where = "" if not path else f" in {label(path)}"
                ctx.error(
                    (*path, key), f"unknown key {key!r}{where} ({self.title}){hint}", at_key=True
                )
                continue
            result[key] = spec.kind.check(item, (*path, key), ctx)
        for spec in self.fields:
            if spec.key in result:
                continue
            if spec.required:
                ctx.error(path, f"{label(path)} is missing {spec.key!r}: {spec.description}")
                result[spec.key] = INVALID
            else:
                result[spec.key] = None if spec.default is NO_DEFAULT else spec.default
        return result


@dataclass(frozen=True)
class Variants(Kind):
    """One of several records, told apart by which key is present (e.g. phases)."""

    noun: str
    variants: Sequence[tuple[str, Record]]

    def schema(self) -> JSON:
        return {"oneOf": [record.schema() for _, record in self.variants]}

    def check(self, value: object, path: KeyPath, ctx: Context) -> object:
        keys = [key for key, _ in self.variants]
        if not isinstance(value, dict):
            return self.wrong(value, path, ctx, f"a mapping ({self.noun})")
        present = [key for key in keys if key in value]
        if len(present) != 1:
            options = ", ".join(repr(k) for k in keys)
            if present:
                both = " and ".join(repr(k) for k in present)
                return ctx.error(path, f"{label(path)}: a {self.noun} has {both}; keep one")
            return ctx.error(path, f"{label(path)}: a {self.noun} needs one of {options}")
        record = dict(self.variants)[present[0]]
        checked = record.check(value, path, ctx)
        if isinstance(checked, dict):
            checked["_variant"] = present[0]
        return checked


@dataclass(frozen=True)
class Alternatives(Kind):
    """A list form or a mapping form of the same thing (chosen by the value's shape)."""

    as_list: Kind
    as_mapping: Kind
    expected: str

    def schema(self) -> JSON:
        return {"anyOf": [self.as_list.schema(), self.as_mapping.schema()]}

    def check(self, value: object, path: KeyPath, ctx: Context) -> object:
        if isinstance(value, list):
            return self.as_list.check(value, path, ctx)
        if isinstance(value, dict):
            return self.as_mapping.check(value, path, ctx)
        return self.wrong(value, path, ctx, self.expected)


@dataclass(frozen=True)
class Shorthand(Kind):
    """A value written short (e.g. a text) or as a record with more keys (chosen by shape)."""

    short: Kind
    full: Record

    def schema(self) -> JSON:
        return {"anyOf": [self.short.schema(), self.full.schema()]}

    def check(self, value: object, path: KeyPath, ctx: Context) -> object:
        if isinstance(value, dict):
            return self.full.check(value, path, ctx)
        return self.short.check(value, path, ctx)
