"""Value conversions shared by the codecs, one place per representation.

Each format carries LwM2M values in a few basic shapes: text (plain text),
numbers and strings of JSON, CBOR items, SenML value fields. The functions here
turn a Python :data:`~fleet.model.Value` into those shapes for a resource's
type and back, and check decoded values against the model. Every failure is a
:class:`CodecError` that names the path.

Tolerances on decode (never used on encode): a Float resource accepts an
integer, an integer resource accepts an integral float, an Objlnk accepts the
``FFFF:FFFF`` spelling of the null link and one trailing NUL, Opaque text
accepts base64 with or without padding in either alphabet, a CBOR Time accepts
tag 1 (epoch) and tag 0 (RFC 3339 text).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime
import functools
import math
import re
from decimal import Decimal
from typing import Final

from fleet.codec.cborwire import Tag
from fleet.errors import CodecError, InvalidValue
from fleet.model import ObjectLink, Path, ResourceModel, ResourceType, Value, check_value
from fleet.model.ranges import Range, RangeKind

T = ResourceType
INTEGER_TYPES: Final = frozenset({T.INTEGER, T.UNSIGNED_INTEGER, T.TIME})
NUMBER_TYPES: Final = INTEGER_TYPES | {T.FLOAT}
TEXT_TYPES: Final = frozenset({T.STRING, T.CORELNK})

_INT_TEXT: Final = re.compile(r"-?[0-9]+")
_FLOAT_TEXT: Final = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
_NON_FINITE: Final = {"nan": math.nan, "inf": math.inf, "+inf": math.inf, "-inf": -math.inf}
_B64: Final = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")
MAX_NUMBER_TEXT: Final = 400
"""Longest text accepted for a number (a float written out positionally fits)."""


def fail(path: Path, message: str) -> CodecError:
    return CodecError(f"{path}: {message}")


# ------------------------------------------------------------------ checks


def expect(path: Path, resource: ResourceModel, value: object) -> Value:
    """Encode side: ``value`` has the Python form of the resource's type (ranges unchecked).

    An integer for a Float resource is taken as the float it equals.
    """
    type_ = resource.type
    if type_ is T.NONE:
        raise fail(path, f"resource {resource.id} ({resource.name}) is executable, no value")
    if type_ is T.FLOAT and isinstance(value, int) and not isinstance(value, bool):
        return as_float(path, value)
    ok = (
        (type_ in TEXT_TYPES and isinstance(value, str))
        or (type_ is T.OPAQUE and isinstance(value, bytes))
        or (type_ is T.BOOLEAN and isinstance(value, bool))
        or (type_ is T.FLOAT and isinstance(value, float))
        or (type_ in INTEGER_TYPES and isinstance(value, int) and not isinstance(value, bool))
        or (type_ is T.OBJLNK and isinstance(value, ObjectLink))
    )
    if not ok:
        raise fail(path, f"cannot write {type(value).__name__} {value!r:.40} as {type_.value}")
    return value  # type: ignore[return-value]


def checked(path: Path, resource: ResourceModel, value: object, *, ranges: bool = True) -> Value:
    """Decode side: the model's :func:`check_value`, failures as :class:`CodecError`.

    ``ranges=False`` checks the type only (a server reading a device that
    reports values outside the definition's range).
    """
    if not ranges and resource.range.kind is not RangeKind.NONE:
        resource = _without_range(resource)
    try:
        return check_value(resource, value)
    except InvalidValue as exc:
        raise fail(path, str(exc)) from None


@functools.lru_cache(maxsize=1024)
def _without_range(resource: ResourceModel) -> ResourceModel:
    return dataclasses.replace(resource, range=Range())


def as_integer(path: Path, raw: object) -> int:
    """An integer, or a float with no fraction."""
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    raise fail(path, f"expected an integer, got {type(raw).__name__} {raw!r:.40}")


def as_float(path: Path, raw: object) -> float:
    if isinstance(raw, float):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        try:
            return float(raw)
        except OverflowError:
            raise fail(path, f"{raw} is too large for a Float") from None
    raise fail(path, f"expected a number, got {type(raw).__name__} {raw!r:.40}")


def number(path: Path, resource: ResourceModel, raw: object) -> int | float:
    """A numeric field for a numeric resource."""
    if resource.type is T.FLOAT:
        return as_float(path, raw)
    if resource.type in INTEGER_TYPES:
        return as_integer(path, raw)
    raise fail(path, f"a number is not a {resource.type.value} value")


# ------------------------------------------------------------------ objlnk and opaque


def objlnk_from_text(path: Path, text: str) -> ObjectLink:
    """``"3:0"``; ``"FFFF:FFFF"`` is the null link; one trailing NUL is forgiven."""
    if text.endswith("\x00"):
        text = text[:-1]
    if text.upper() == "FFFF:FFFF":
        return ObjectLink(65535, 65535)
    try:
        return ObjectLink.parse(text)
    except ValueError as exc:
        raise fail(path, str(exc)) from None


def b64_decode(path: Path, text: str) -> bytes:
    """Base64 in either alphabet (RFC 4648 §4 and §5), padding optional."""
    if not _B64.fullmatch(text):
        raise fail(path, "opaque value is not base64")
    body = text.rstrip("=").replace("-", "+").replace("_", "/")
    if len(body) % 4 == 1:
        raise fail(path, "opaque value is truncated base64")
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except binascii.Error:
        raise fail(path, "opaque value is not base64") from None


def b64_std(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64_url(data: bytes) -> str:
    """base64url without padding, as SenML's ``vd`` (RFC 8428 §5)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# ------------------------------------------------------------------ plain text


def float_text(value: float) -> str:
    """Shortest round-trip digits, written without an exponent (``0.00001``)."""
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(Decimal(text), "f")
        if "." not in text:
            text += ".0"
    return text


def to_text(path: Path, resource: ResourceModel, value: Value) -> str:
    """The text/plain form of a value (LwM2M Appendix C)."""
    value = expect(path, resource, value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, bytes):
        return b64_std(value)
    if isinstance(value, float):
        return float_text(value)
    return str(value)


def from_text(path: Path, resource: ResourceModel, text: str) -> object:
    """Parse the text/plain form; the result still needs :func:`checked`."""
    type_ = resource.type
    if type_ in TEXT_TYPES:
        return text
    if type_ is T.OPAQUE:
        return b64_decode(path, text)
    if type_ is T.OBJLNK:
        return objlnk_from_text(path, text)
    stripped = text.strip()
    if len(stripped) > MAX_NUMBER_TEXT:
        raise fail(path, f"{len(stripped)} characters is too long for a {type_.value}")
    if type_ in INTEGER_TYPES:
        if not _INT_TEXT.fullmatch(stripped):
            raise fail(path, f"{stripped!r:.40} is not a valid {type_.value}")
        return int(stripped)
    if type_ is T.FLOAT:
        special = _NON_FINITE.get(stripped.lower().replace("infinity", "inf"))
        if special is not None:
            return special
        if not _FLOAT_TEXT.fullmatch(stripped):
            raise fail(path, f"{stripped!r:.40} is not a Float")
        return float(stripped)
    if type_ is T.BOOLEAN:
        if stripped in ("0", "1"):
            return stripped == "1"
        raise fail(path, f"{stripped!r:.40} is not a Boolean (0 or 1)")
    raise fail(path, f"resource {resource.id} ({resource.name}) is executable, no value")


# ------------------------------------------------------------------ CBOR items


def to_cbor(path: Path, resource: ResourceModel, value: Value) -> object:
    """The CBOR item of a value: Objlnk as text ``"3:0"``, Time as a plain integer."""
    value = expect(path, resource, value)
    if isinstance(value, ObjectLink):
        return str(value)
    return value


def _time_from_tag(path: Path, tag: Tag) -> object:
    if tag.number == 1 and isinstance(tag.value, int | float) and not isinstance(tag.value, bool):
        return tag.value
    if tag.number == 0 and isinstance(tag.value, str) and len(tag.value) <= 64:
        try:
            moment = datetime.datetime.fromisoformat(tag.value)
        except ValueError:
            raise fail(path, f"tag 0 date {tag.value!r} is not RFC 3339") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.UTC)
        return math.floor(moment.timestamp())
    raise fail(path, f"CBOR tag {tag.number} is not a Time")


def from_cbor(path: Path, resource: ResourceModel, item: object) -> object:
    """Map a decoded CBOR item to the resource's Python form (still to be checked)."""
    type_ = resource.type
    if isinstance(item, Tag):
        if type_ is not T.TIME:
            raise fail(path, f"CBOR tag {item.number} cannot hold a {type_.value} value")
        item = _time_from_tag(path, item)
    if type_ in NUMBER_TYPES:
        return number(path, resource, item)
    if type_ is T.OBJLNK:
        if not isinstance(item, str):
            raise fail(path, f"Objlnk must be CBOR text, got {type(item).__name__}")
        return objlnk_from_text(path, item)
    if type_ in TEXT_TYPES and not isinstance(item, str):
        raise fail(path, f"{type_.value} must be CBOR text, got {type(item).__name__}")
    if type_ is T.OPAQUE and not isinstance(item, bytes):
        raise fail(path, f"Opaque must be a CBOR byte string, got {type(item).__name__}")
    if type_ is T.BOOLEAN and not isinstance(item, bool):
        raise fail(path, f"Boolean must be CBOR true/false, got {type(item).__name__}")
    if type_ is T.NONE:
        raise fail(path, f"resource {resource.id} ({resource.name}) is executable, no value")
    return item
