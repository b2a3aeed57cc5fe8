"""Python values for LwM2M data types: checking and conversion.

The Python form of each type:

=================  ==========================================
String, Corelnk    ``str``
Integer            ``int`` in -2**63 .. 2**63-1
Unsigned Integer   ``int`` in 0 .. 2**64-1
Float              ``float``
Boolean            ``bool``
Opaque             ``bytes``
Time               ``int`` seconds since the Unix epoch
Objlnk             :class:`ObjectLink` (object id, instance id)
=================  ==========================================

:func:`check_value` verifies a value of the right Python form against a
resource's type and range; :func:`coerce_value` also accepts the text and JSON
forms users write (``"42"``, ``"true"``, ``"3:0"``, ``"hex:0a0b"``) and returns
the Python form. Both raise :class:`~fleet.errors.InvalidValue` naming the
resource and the reason.
"""

from __future__ import annotations

import base64
import binascii
import math
from typing import Final, NamedTuple

from fleet.errors import InvalidValue
from fleet.model.definitions import ResourceModel
from fleet.model.types import ResourceType

INT_MIN: Final = -(2**63)
INT_MAX: Final = 2**63 - 1
UINT_MAX: Final = 2**64 - 1
ID_MAX: Final = 65535


class ObjectLink(NamedTuple):
    """An Objlnk value, written ``3:0``; ``65535:65535`` is the null link."""

    object_id: int
    instance_id: int

    def __str__(self) -> str:
        return f"{self.object_id}:{self.instance_id}"

    @classmethod
    def parse(cls, text: str) -> ObjectLink:
        parts = text.strip().split(":")
        if len(parts) != 2 or not all(p.isascii() and p.isdigit() for p in parts):
            raise ValueError(f"an object link is written OBJECT:INSTANCE, got {text!r}")
        obj, inst = int(parts[0]), int(parts[1])
        if obj > ID_MAX or inst > ID_MAX:
            raise ValueError(f"object link ids must be 0..{ID_MAX}, got {text!r}")
        return cls(obj, inst)


Value = str | int | float | bool | bytes | ObjectLink


def _where(resource: ResourceModel) -> str:
    return f"resource {resource.id} ({resource.name})"


def _no_value(resource: ResourceModel) -> str:
    """Why a resource of no Type holds no value: executable, or a definition without Type."""
    if resource.executable:
        return f"{_where(resource)} is executable and has no value"
    ops = resource.operations.ddf() or "no operations"
    return f"{_where(resource)} has no Type (operations {ops}): no value can be made for it"


def check_value(resource: ResourceModel, value: object) -> Value:
    """Verify that ``value`` is a valid Python value for ``resource``; return it."""
    type_ = resource.type
    where = _where(resource)
    if type_ is ResourceType.NONE:
        raise InvalidValue(_no_value(resource))
    if type_ in (ResourceType.STRING, ResourceType.CORELNK):
        if not isinstance(value, str):
            raise InvalidValue(f"{where} expects a {type_.value} (text), got {_show(value)}")
        if type_ is ResourceType.STRING:
            if not resource.range.allows_length(len(value.encode("utf-8"))):
                raise InvalidValue(
                    f"{where}: {len(value.encode())} bytes is outside {resource.range.describe()}"
                )
            if not resource.range.allows_text(value):
                raise InvalidValue(f"{where}: {value!r} is not {resource.range.describe()}")
        return value
    if type_ is ResourceType.OPAQUE:
        if not isinstance(value, bytes | bytearray):
            raise InvalidValue(f"{where} expects Opaque (bytes), got {_show(value)}")
        if not resource.range.allows_length(len(value)):
            raise InvalidValue(
                f"{where}: {len(value)} bytes is outside {resource.range.describe()}"
            )
        return bytes(value)
    if type_ is ResourceType.BOOLEAN:
        if not isinstance(value, bool):
            raise InvalidValue(f"{where} expects a Boolean, got {_show(value)}")
        return value
    if type_ is ResourceType.OBJLNK:
        if isinstance(value, tuple) and len(value) == 2:
            obj, inst = value
            if _is_int(obj) and _is_int(inst) and 0 <= obj <= ID_MAX and 0 <= inst <= ID_MAX:
                return ObjectLink(obj, inst)
        raise InvalidValue(f"{where} expects an object link like 3:0, got {_show(value)}")
    if type_ in (ResourceType.INTEGER, ResourceType.TIME, ResourceType.UNSIGNED_INTEGER):
        if not _is_int(value):
            raise InvalidValue(f"{where} expects {_article(type_)}, got {_show(value)}")
        assert isinstance(value, int)
        low, high = (0, UINT_MAX) if type_ is ResourceType.UNSIGNED_INTEGER else (INT_MIN, INT_MAX)
        if not low <= value <= high:
            raise InvalidValue(f"{where}: {value} does not fit {type_.value} ({low}..{high})")
        if not resource.range.allows_number(value):
            raise InvalidValue(f"{where}: {value} is outside {resource.range.describe()}")
        return value
    if type_ is ResourceType.FLOAT:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidValue(f"{where} expects a Float, got {_show(value)}")
        number = float(value)
        if math.isfinite(number) and not resource.range.allows_number(number):
            raise InvalidValue(f"{where}: {number} is outside {resource.range.describe()}")
        return number
    raise InvalidValue(f"{where} has an unknown type {type_!r}")  # pragma: no cover


def coerce_value(resource: ResourceModel, value: object) -> Value:
    """Convert a user-written value (Python, JSON or text form) and check it."""
    type_ = resource.type
    where = _where(resource)
    try:
        if isinstance(value, str) and type_ not in (ResourceType.STRING, ResourceType.CORELNK):
            value = _from_text(type_, value)
        elif type_ is ResourceType.FLOAT and _is_int(value):
            value = float(value)  # type: ignore[arg-type]
        elif type_ is ResourceType.OBJLNK and isinstance(value, list):
            value = tuple(value)
    except ValueError as exc:
        raise InvalidValue(f"{where}: {exc}") from None
    return check_value(resource, value)


def _from_text(type_: ResourceType, text: str) -> object:
    stripped = text.strip()
    if type_ in (ResourceType.INTEGER, ResourceType.UNSIGNED_INTEGER, ResourceType.TIME):
        try:
            return int(stripped, 10)
        except ValueError:
            raise ValueError(f"{text!r} is not {_article(type_)}") from None
    if type_ is ResourceType.FLOAT:
        try:
            return float(stripped)
        except ValueError:
            raise ValueError(f"{text!r} is not a Float") from None
    if type_ is ResourceType.BOOLEAN:
        table = {"1": True, "0": False, "true": True, "false": False}
        if stripped.lower() not in table:
            raise ValueError(f"{text!r} is not a Boolean (use true/false or 1/0)")
        return table[stripped.lower()]
    if type_ is ResourceType.OBJLNK:
        return ObjectLink.parse(stripped)
    if type_ is ResourceType.OPAQUE:
        return opaque_from_text(text)
    raise ValueError(f"{type_.value} has no text form")


def opaque_from_text(text: str) -> bytes:
    """``hex:0a0b`` or ``base64:CgsM`` decode; any other text is taken as UTF-8."""
    if text.startswith("hex:"):
        try:
            return bytes.fromhex(text[4:])
        except ValueError:
            raise ValueError(f"{text!r} is not valid hex") from None
    if text.startswith("base64:"):
        try:
            return base64.b64decode(text[7:], validate=True)
        except binascii.Error:
            raise ValueError(f"{text!r} is not valid base64") from None
    return text.encode("utf-8")


def default_value(resource: ResourceModel) -> Value:
    """A neutral valid value: the lowest of the range, empty text, false, ``0:0``."""
    type_ = resource.type
    low = resource.range.low
    if type_ in (ResourceType.INTEGER, ResourceType.UNSIGNED_INTEGER, ResourceType.TIME):
        base = int(low) if low is not None and resource.range.allows_number(int(low)) else 0
        return max(base, 0) if type_ is ResourceType.UNSIGNED_INTEGER else base
    if type_ is ResourceType.FLOAT:
        return float(low) if low is not None else 0.0
    if type_ is ResourceType.BOOLEAN:
        return False
    if type_ is ResourceType.OPAQUE:
        return b"\x00" * int(low or 0)
    if type_ is ResourceType.OBJLNK:
        return ObjectLink(0, 0)
    if type_ is ResourceType.STRING:
        if resource.range.values:
            return resource.range.values[0]
        return " " * int(low or 0)
    if type_ is ResourceType.CORELNK:
        return ""
    raise InvalidValue(_no_value(resource))


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _article(type_: ResourceType) -> str:
    return {
        ResourceType.INTEGER: "an Integer",
        ResourceType.UNSIGNED_INTEGER: "an Unsigned Integer",
        ResourceType.TIME: "a Time (integer seconds)",
    }.get(type_, type_.value)


def _show(value: object) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"
