"""The DDF XML loader: OMA object definition files into :class:`ObjectModel` values.

Reads the files of the OMA LwM2M registry (schemas ``LWM2M.xsd`` 1.0 and
``LWM2M-v1_1.xsd``) and our own. It is lenient about what real files contain
(byte-order marks, no XML declaration, any element order, missing or empty
elements, stray whitespace, free-text ranges, unsorted ids) and strict about
what is really broken: every refusal is a :class:`~fleet.errors.DdfError` naming
the file, the Item and the problem.

XML is untrusted input. A document with a DOCTYPE is refused before any
element is built, which shuts out entity expansion ("billion laughs") and
external DTDs or entities (XXE): without a DTD there is nothing to expand.

Files that are not object definitions (the registry's ``DDF.xml`` index,
``Common.xml`` reusable resources, ``LWM2M_senml_units.xml``) are reported as
skipped by :func:`load_paths`, not as failures.

The shipped objects and registries built from them plus user folders
(:func:`build_registry`, :func:`shipped_registry`) live in
:mod:`fleet.model.shipped` and are re-exported here.
"""

from __future__ import annotations

import functools
import pathlib
import pyexpat
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Final, NoReturn

from fleet.errors import DdfError
from fleet.model.definitions import ObjectModel, ResourceModel
from fleet.model.path import MAX_ID
from fleet.model.ranges import Range, parse_range
from fleet.model.reading import MAX_DDF_BYTES, FileTooLarge, describe_size, read_bounded
from fleet.model.shipped import build_registry, shipped_objects_dir, shipped_registry
from fleet.model.types import Operations, ResourceType

__all__ = [
    "LoadReport",
    "NotObjectDefinition",
    "build_registry",
    "load_ddf_bytes",
    "load_ddf_file",
    "load_ddf_models",
    "load_paths",
    "shipped_objects_dir",
    "shipped_registry",
]

_SKIPPED_ROOTS: Final = {
    "DDFList": "registry index (<DDFList>), not an object definition",
    "units": "SenML units list (<units>), not an object definition",
}
_COMMON_RESOURCES: Final = "CommonResources"
_MULTIPLICITY: Final = {"single": False, "multiple": True}
_MANDATORY: Final = {"optional": False, "mandatory": True}
_TYPE_NAMES: Final = ", ".join(t.value for t in ResourceType if t is not ResourceType.NONE)
_VERSION_CHARS: Final = frozenset("0123456789.")

# Ranges repeat a lot across the registry ("0..100", "0..255 bytes"); parse each once.
_cached_range = functools.lru_cache(maxsize=4096)(parse_range)
_cached_type = functools.lru_cache(maxsize=256)(ResourceType.from_ddf)
_cached_operations = functools.lru_cache(maxsize=64)(Operations.from_ddf)


class NotObjectDefinition(DdfError):
    """A well-formed XML file that is not an object definition (skipped, not failed)."""


@dataclass
class LoadReport:
    """What :func:`load_paths` found: models, failures, and files skipped with a reason."""

    models: list[ObjectModel] = field(default_factory=list)
    failures: list[DdfError] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        """``"N objects loaded, M failed, K skipped"``."""
        return (
            f"{len(self.models)} objects loaded, {len(self.failures)} failed, "
            f"{len(self.skipped)} skipped"
        )


# --------------------------------------------------------------------------- parsing


def _refuse_dtd(source: str, parser: pyexpat.XMLParserType) -> NoReturn:
    raise DdfError(
        "refused: the document has a DOCTYPE; DTDs, entity declarations and external "
        "entities are not allowed in DDF files",
        file=source,
        line=parser.CurrentLineNumber,
    )


class _PrologDone(Exception):
    """Raised at the first element: the prolog held no DOCTYPE."""


def _check_prolog(data: bytes, source: str) -> None:
    """Refuse a DOCTYPE; stop at the root element, so only the prolog is scanned.

    A DTD can only appear before the root element, so stopping there is enough.
    """
    parser = pyexpat.ParserCreate()
    parser.SetParamEntityParsing(pyexpat.XML_PARAM_ENTITY_PARSING_NEVER)

    def doctype(*_: object) -> NoReturn:
        _refuse_dtd(source, parser)

    def first_element(*_: object) -> None:
        raise _PrologDone

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.ExternalEntityRefHandler = doctype
    parser.StartElementHandler = first_element
    try:
        parser.Parse(data, True)
    except _PrologDone:
        return
    except pyexpat.ExpatError as exc:
        raise DdfError(
            f"not XML: {pyexpat.ErrorString(exc.code)}",
            file=source,
            line=exc.lineno,
            column=exc.offset + 1,
        ) from None


def _parse_xml(data: bytes, source: str) -> ET.Element:
    _check_prolog(data, source)
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        line, column = exc.position
        raise DdfError(
            f"not XML: {pyexpat.ErrorString(exc.code)}", file=source, line=line, column=column + 1
        ) from None


def _local(tag: str) -> str:
    """``{namespace}Name`` -> ``Name``."""
    return tag.rpartition("}")[2] if tag[:1] == "{" else tag


def _fields(element: ET.Element) -> dict[str, str]:
    """Child element name -> stripped text (first occurrence wins; any order)."""
    out: dict[str, str] = {}
    for child in element:
        tag = child.tag
        if tag[:1] == "{":
            tag = _local(tag)
        if tag in out:
            continue
        text = "".join(child.itertext()) if len(child) else child.text
        out[tag] = text.strip() if text else ""
    return out


# ------------------------------------------------------------------------ conversion


class _Ctx:
    """Where we are, for error messages."""

    __slots__ = ("item", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.item: str | None = None

    def fail(self, message: str) -> NoReturn:
        raise DdfError(message, file=self.source, item=self.item)


def _parse_id(ctx: _Ctx, text: str | None, what: str) -> int:
    stripped = (text or "").strip()
    if not stripped:
        ctx.fail(f"missing {what}")
    if not (stripped.isascii() and stripped.isdigit()) or int(stripped) > MAX_ID:
        ctx.fail(f"unparseable {what} {stripped!r}: expected an integer 0..{MAX_ID}")
    return int(stripped)


def _choice(ctx: _Ctx, fields: dict[str, str], name: str, table: dict[str, bool]) -> bool:
    text = fields.get(name, "")
    if not text:
        return False
    try:
        return table[text.lower()]
    except KeyError:
        allowed = " or ".join(k.capitalize() for k in table)
        ctx.fail(f"<{name}> must be {allowed}, got {text!r}")


def _version(ctx: _Ctx, fields: dict[str, str], name: str) -> str:
    text = fields.get(name, "")
    if not text:
        return "1.0"
    parts = text.split(".")
    if not _VERSION_CHARS.issuperset(text) or len(parts) != 2 or not all(parts):
        ctx.fail(f"<{name}> must look like 1.0, got {text!r}")
    return text


def _resource(ctx: _Ctx, item: ET.Element) -> ResourceModel:
    raw_id = item.get("ID")
    ctx.item = f"Item {raw_id.strip()}" if raw_id and raw_id.strip() else "Item"
    resource_id = _parse_id(ctx, raw_id, "Item ID")
    fields = _fields(item)
    name = fields.get("Name", "")
    if not name:
        ctx.fail("missing <Name>")
    type_text = fields.get("Type", "")
    try:
        type_ = _cached_type(type_text)
    except KeyError:
        ctx.fail(f"unknown type {type_text!r} (expected one of {_TYPE_NAMES}, or empty)")
    ops_text = fields.get("Operations", "")
    try:
        operations = _cached_operations(ops_text)
    except KeyError:
        ctx.fail(f"unknown operations {ops_text!r} (expected R, W, RW, E or empty)")
    raw_range = fields.get("RangeEnumeration", "")
    return ResourceModel(
        id=resource_id,
        name=name,
        operations=operations,
        multiple=_choice(ctx, fields, "MultipleInstances", _MULTIPLICITY),
        mandatory=_choice(ctx, fields, "Mandatory", _MANDATORY),
        type=type_,
        range=_cached_range(raw_range, type_) if raw_range else Range(),
        units=fields.get("Units", ""),
        description=fields.get("Description", ""),
    )


def _object(obj: ET.Element, source: str) -> ObjectModel:
    ctx = _Ctx(source)
    ctx.item = "Object"
    fields = _fields(obj)
    object_id = _parse_id(ctx, fields.get("ObjectID"), "ObjectID")
    ctx.item = f"Object {object_id}"
    name = fields.get("Name", "")
    if not name:
        ctx.fail("missing <Name>")
    resources: dict[int, ResourceModel] = {}
    for container in obj:
        if _local(container.tag) != "Resources":
            continue
        for item in container:
            if _local(item.tag) != "Item":
                continue
            resource = _resource(ctx, item)
            if resource.id in resources:
                ctx.fail(f"duplicate resource id {resource.id}")
            resources[resource.id] = resource
    ctx.item = f"Object {object_id}"
    description = fields.get("Description1", "")
    extra = fields.get("Description2", "")
    if extra:
        description = f"{description}\n\n{extra}" if description else extra
    return ObjectModel(
        id=object_id,
        name=name,
        version=_version(ctx, fields, "ObjectVersion"),
        lwm2m_version=_version(ctx, fields, "LWM2MVersion"),
        urn=fields.get("ObjectURN", ""),
        multiple=_choice(ctx, fields, "MultipleInstances", _MULTIPLICITY),
        mandatory=_choice(ctx, fields, "Mandatory", _MANDATORY),
        description=description,
        resources=resources,
        source=source,
    )


def load_ddf_models(data: bytes, source: str = "<bytes>") -> list[ObjectModel]:
    """Every ``<Object>`` of one DDF document (the schema allows several).

    Raises :class:`NotObjectDefinition` for a well-formed file that defines no
    object (registry index, units list, common resources) and :class:`DdfError`
    for a broken one.
    """
    root = _parse_xml(data, source)
    root_tag = _local(root.tag)
    if root_tag in _SKIPPED_ROOTS:
        raise NotObjectDefinition(_SKIPPED_ROOTS[root_tag], file=source)
    if root_tag == "Object":
        objects = [root]
    elif root_tag == "LWM2M":
        objects = [child for child in root if _local(child.tag) == "Object"]
        if not objects:
            raise DdfError("no <Object> element in <LWM2M>", file=source)
    else:
        raise DdfError(f"no <Object> element (the root element is <{root_tag}>)", file=source)
    definitions = [o for o in objects if o.get("ObjectType") != _COMMON_RESOURCES]
    if not definitions:
        raise NotObjectDefinition(
            "reusable resource list (ObjectType CommonResources), not an object definition",
            file=source,
        )
    return [_object(obj, source) for obj in definitions]


def load_ddf_bytes(data: bytes, source: str = "<bytes>") -> ObjectModel:
    """The one object defined by a DDF document; ``source`` names it in errors."""
    models = load_ddf_models(data, source)
    if len(models) != 1:
        ids = ", ".join(str(m.id) for m in models)
        raise DdfError(f"expected one <Object>, found {len(models)} (ids {ids})", file=source)
    return models[0]


def _read(path: pathlib.Path) -> bytes:
    try:
        return read_bounded(path, MAX_DDF_BYTES)
    except FileTooLarge:
        limit = describe_size(MAX_DDF_BYTES)
        raise DdfError(f"the file is larger than {limit} (the limit)", file=str(path)) from None
    except OSError as exc:
        raise DdfError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None


def load_ddf_file(path: pathlib.Path) -> ObjectModel:
    """The one object defined by a DDF file."""
    return load_ddf_bytes(_read(path), str(path))


def _expand(path: pathlib.Path) -> Iterator[pathlib.Path]:
    if path.is_dir():
        yield from sorted(p for p in path.rglob("*.xml") if p.is_file())
    else:
        yield path


def load_paths(paths: Iterable[pathlib.Path]) -> LoadReport:
    """Load every ``*.xml`` under the given folders (recursively) and the given files.

    Never raises for a bad file: failures and skipped files are in the report.
    """
    report = LoadReport()
    for given in paths:
        if not given.exists():
            report.failures.append(DdfError("no such file or directory", file=str(given)))
            continue
        for path in _expand(given):
            source = str(path)
            try:
                report.models.extend(load_ddf_models(_read(path), source))
            except NotObjectDefinition as exc:
                report.skipped.append((source, exc.message))
            except DdfError as exc:
                report.failures.append(exc)
    return report
