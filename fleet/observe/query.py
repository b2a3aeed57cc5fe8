"""Parse the query of a Write-Attributes (or Observe) request into an :class:`AttributeUpdate`.

A Write-Attributes request is a CoAP PUT whose Uri-Query options carry the attributes
(LwM2M 1.1.1 section 5.4.4): ``pmin=10``, ``pmax=60``,
``gt=25.5``. An attribute written without a value (``pmin``, or ``pmin=``) is removed from the
target. What we accept:

* ``pmin pmax epmin epmax``: non-negative numbers (1.0 and 1.1 write ``1*DIGIT``; we also take a
  fraction, ``0.5``, which later versions allow);
* ``gt lt``: numbers, negative ones included (a threshold on an RSSI is negative; the ABNF of
  1.1.1 forgot the sign, see OMA LwM2M for developers issue 563);
* ``st``: a non-negative number; ``stp`` (1.0's name) and ``step`` (used by some servers) are
  accepted as aliases;
* ``edge`` and ``con`` (1.2): ``0`` or ``1``.

Everything else is refused with 4.00 :class:`BadRequest` naming the item: unknown names, the
read-only <PROPERTIES> attributes (``dim ssid uri ver lwm2m``), ``hqmax`` (1.2 historical
queue, not supported), malformed or duplicated values (``st`` and ``stp`` count as the same).
Values are not percent-decoded here: CoAP options already carry the decoded text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Final

from fleet.errors import BadRequest
from fleet.observe.attributes import (
    ATTRIBUTE_NAMES,
    AttributeUpdate,
    AttributeValue,
    NotificationAttributes,
)

ALIASES: Final = {"stp": "st", "step": "st"}
"""Other spellings of attribute names, mapped to the LwM2M 1.1 name."""

READ_ONLY: Final = frozenset({"dim", "ssid", "uri", "ver", "lwm2m"})
"""<PROPERTIES> class attributes: shown by Discover, never written (LwM2M 1.1.1 table 5.1.2-1)."""

UNSUPPORTED: Final = {"hqmax": "hqmax (1.2 maximum historical queue) is not supported"}

_UNSIGNED = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_SIGNED = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_SIGNED_NAMES: Final = frozenset({"gt", "lt"})
_FLAG_NAMES: Final = frozenset({"edge", "con"})

Query = Mapping[str, str | None] | Iterable[str]


def parse_attributes(query: Query) -> AttributeUpdate:
    """Parse query items into the attributes to set and those to remove.

    ``query`` is a mapping ``{"pmin": "10", "pmax": None}`` (``None`` or ``""`` removes), a list
    of items ``["pmin=10", "pmax"]`` as CoAP Uri-Query options give them, or one string
    ``"pmin=10&pmax"``. Empty items are skipped. Raises :class:`BadRequest` on the first bad item.
    """
    values: dict[str, AttributeValue] = {}
    removed: set[str] = set()
    seen: dict[str, str] = {}
    for written, raw in _items(query):
        name = _canonical(written)
        if name in seen:
            first = seen[name]
            how = f"as {first!r} and {written!r}" if first != written else f"as {written!r}"
            raise BadRequest(f"attribute {name!r} is given twice ({how})")
        seen[name] = written
        if raw is None or raw == "":
            removed.add(name)
        else:
            values[name] = _parse_value(name, written, raw)
    # mypy cannot match a str-keyed dict to the fields; __post_init__ checks the types instead.
    attributes = NotificationAttributes(**values)  # type: ignore[arg-type]
    return AttributeUpdate(attributes, frozenset(removed))


def _items(query: Query) -> Iterable[tuple[str, str | None]]:
    if isinstance(query, str):
        query = query.split("&")
    if isinstance(query, Mapping):
        for key, value in query.items():
            if not isinstance(key, str) or not (value is None or isinstance(value, str)):
                raise BadRequest(f"a query item must be text, got {key!r}={value!r}")
            if key == "" and not value:
                continue
            yield key, value
        return
    for item in query:
        if not isinstance(item, str):
            raise BadRequest(f"a query item must be text, got {item!r}")
        if item == "":
            continue
        name, sep, value = item.partition("=")
        yield name, (value if sep else None)


def _canonical(written: str) -> str:
    name = ALIASES.get(written, written)
    if name in ATTRIBUTE_NAMES:
        return name
    if name in READ_ONLY:
        raise BadRequest(f"attribute {name!r} is read-only and cannot be written")
    if name in UNSUPPORTED:
        raise BadRequest(UNSUPPORTED[name])
    known = ", ".join((*ATTRIBUTE_NAMES, *ALIASES))
    shown = written if written else "(empty name)"
    raise BadRequest(f"unknown attribute {shown!r}; known: {known}")


def _parse_value(name: str, written: str, raw: str) -> AttributeValue:
    if name in _FLAG_NAMES:
        if raw not in ("0", "1"):
            raise BadRequest(f"attribute {written!r}: {raw!r} is not 0 or 1")
        return raw == "1"
    pattern = _SIGNED if name in _SIGNED_NAMES else _UNSIGNED
    if pattern.fullmatch(raw) is None:
        kind = "a number" if name in _SIGNED_NAMES else "a non-negative number"
        raise BadRequest(f"attribute {written!r}: {raw!r} is not {kind}")
    if not math.isfinite(float(raw)):
        raise BadRequest(f"attribute {written!r}: {raw!r} is too large")
    if "." in raw:
        return float(raw)
    sign, digits = ("-", raw[1:]) if raw.startswith("-") else ("", raw)
    return int(sign + (digits.lstrip("0") or "0"))  # no 4300-digit limit on zero padding
