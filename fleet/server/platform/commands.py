"""The platform's command language, parsed (pure: nothing is sent here).

A console line is ``ENDPOINT CONTENT``: the endpoint name, one space, then what the platform
calls the ``con`` of an outgoing message, in one of two modes.

Protocol mode, one or more commands separated by ``;``::

    READ /6; RD /3/0/0
    WRITE /3442/0/110 Hello            (the rest of the command is the value; "..." is JSON)
    EXECUTE /3442/0/2
    OBSERVE /3303/0/5602 pmin=5 pmax=30      (also /3303/0/5602?pmin=5&pmax=30)
    UNOBSERVE /3303/0/5602

Names are case-insensitive, with the short forms RD WR EXE OBS UOBS. Observe parameters are
``pmin`` ``pmax`` (whole seconds), ``gt`` ``lt`` ``st`` (numbers; ``steps`` is ``st``); a
parameter without ``=`` clears it. Parameters after UNOBSERVE are accepted and ignored.

REST mode, a JSON object or a list of them::

    {"method": "GET", "path": "/3442/0/160"}
    [{"method": "read", "path": "/6"}, {"method": "PUT", "path": "/3442/0/110", "value": "Hi"}]

``method`` GET / PUT / POST mean read / write / execute; the protocol names (any case) work
too. A write's value is ``value`` (or ``payload``); observe parameters go in ``attributes``
or at the top level of the object.

Each command parses to a :class:`Command` or, when malformed, a :class:`Refused` holding the
error table's status (400 bad payload or missing WRITE value, 404 bad path, 405 unknown
operation); the others of the same content still run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fleet.codec import json_text
from fleet.server.platform.texts import (
    BAD_OPERATION,
    BAD_PATH,
    BAD_PAYLOAD,
    VALUE_MANDATORY,
    Status,
)


class Method(StrEnum):
    """An operation of the command language; the value is the ``method`` of its messages."""

    READ = "read"
    WRITE = "write"
    EXECUTE = "exec"
    OBSERVE = "observe"
    UNOBSERVE = "unobserve"


NAMES: dict[str, Method] = {
    "READ": Method.READ,
    "RD": Method.READ,
    "GET": Method.READ,
    "WRITE": Method.WRITE,
    "WR": Method.WRITE,
    "PUT": Method.WRITE,
    "EXECUTE": Method.EXECUTE,
    "EXE": Method.EXECUTE,
    "EXEC": Method.EXECUTE,
    "POST": Method.EXECUTE,
    "OBSERVE": Method.OBSERVE,
    "OBS": Method.OBSERVE,
    "UNOBSERVE": Method.UNOBSERVE,
    "UOBS": Method.UNOBSERVE,
}
"""Every accepted operation name (upper case) -> method."""

INTEGER_ATTRIBUTES = ("pmin", "pmax")
NUMBER_ATTRIBUTES = ("gt", "lt", "st")
_ALIASES = {"steps": "st"}
_PATH = re.compile(r"/?(\d{1,5})(?:/(\d{1,5})){0,3}")
_MAX_ID = 65535

Attributes = dict[str, float | int | None]


@dataclass(frozen=True, slots=True)
class Command:
    """One well-formed command."""

    method: Method
    path: str
    """Normalised, with a leading slash: ``/3303/0/5602``."""
    value: str | int | float | bool | None = None
    """WRITE: the value (text from protocol mode, any JSON scalar from REST mode)."""
    attributes: Attributes = field(default_factory=dict)
    """OBSERVE: the notification attributes given."""
    text: str = ""
    """The command as written."""


@dataclass(frozen=True, slots=True)
class Refused:
    """A malformed command, refused before anything was sent."""

    status: Status
    reason: str
    """What exactly is wrong (for the console; the message carries ``status``)."""
    method: Method | None = None
    path: str | None = None
    text: str = ""


Parsed = Command | Refused


def split_line(line: str) -> tuple[str, str] | None:
    """``"dev1 READ /3"`` -> ``("dev1", "READ /3")``; ``None`` for a line without content."""
    endpoint, _, content = line.strip().partition(" ")
    if not endpoint or not content.strip():
        return None
    return endpoint, content.strip()


def parse_content(content: str) -> list[Parsed]:
    """Parse an outgoing message's content: REST mode if it starts with ``{`` or ``[``."""
    text = content.strip()
    if text.startswith(("{", "[")):
        return parse_rest(text)
    if not text:
        return [Refused(BAD_PAYLOAD, "empty content")]
    return [parse_protocol(part.strip()) for part in text.split(";") if part.strip()] or [
        Refused(BAD_PAYLOAD, "no command", text=text)
    ]


def normalise_path(text: str) -> str | None:
    """``"3/0/1"`` or ``"/3/0/1"`` -> ``"/3/0/1"``; ``None`` if it is no LwM2M path."""
    match = _PATH.fullmatch(text.strip())
    if match is None:
        return None
    parts = [int(p) for p in text.strip().strip("/").split("/")]
    if any(p > _MAX_ID for p in parts) or (len(parts) > 1 and parts[1] == _MAX_ID):
        return None
    return "/" + "/".join(str(p) for p in parts)


def parse_protocol(text: str) -> Parsed:
    """One protocol-mode command (no ``;``)."""
    name, _, rest = text.partition(" ")
    method = NAMES.get(name.upper())
    if method is None:
        return Refused(BAD_OPERATION, f"unknown operation {name!r}", text=text)
    rest = rest.strip()
    if not rest:
        return Refused(BAD_PATH, "no path", method=method, text=text)
    written, _, tail = rest.partition(" ")
    written, _, query = written.partition("?")
    path = normalise_path(written)
    if path is None:
        return Refused(BAD_PATH, f"bad path {written!r}", method, written, text)
    tail = tail.strip()
    if method is Method.WRITE:
        if query:
            return Refused(BAD_PATH, "a WRITE path has no query", method, path, text)
        if not tail:
            return Refused(VALUE_MANDATORY, "no value", method, path, text)
        return Command(method, path, _protocol_value(tail), text=text)
    if method in (Method.OBSERVE, Method.UNOBSERVE):
        items = [i for i in query.split("&") if i] + tail.split()
        attributes = _attributes(items)
        if isinstance(attributes, str):
            return Refused(BAD_PAYLOAD, attributes, method, path, text)
        if method is Method.UNOBSERVE:
            attributes = {}
        return Command(method, path, attributes=attributes, text=text)
    if query or tail:
        what = "arguments" if method is Method.EXECUTE else "anything after the path"
        return Refused(BAD_PAYLOAD, f"{method.name} takes no {what}", method, path, text)
    return Command(method, path, text=text)


def _protocol_value(text: str) -> str | int | float | bool | None:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        try:
            decoded = json_text.loads(text)
        except ValueError:
            return text
        return decoded if isinstance(decoded, str) else text
    return text


def _attributes(items: list[str] | dict[str, Any]) -> Attributes | str:
    """Observe parameters from ``["pmin=5", ...]`` or a mapping; an error text if bad."""
    pairs: list[tuple[str, Any]] = []
    if isinstance(items, dict):
        pairs = list(items.items())
    else:
        for item in items:
            key, eq, value = item.partition("=")
            pairs.append((key, value if eq else None))
    out: Attributes = {}
    for raw_key, value in pairs:
        key = _ALIASES.get(str(raw_key).lower(), str(raw_key).lower())
        if key not in INTEGER_ATTRIBUTES + NUMBER_ATTRIBUTES:
            return f"unknown observe parameter {raw_key!r}"
        if value is None:
            out[key] = None
            continue
        number = _number(value)
        if number is None:
            return f"{key} must be a number, got {value!r}"
        if key in INTEGER_ATTRIBUTES and (number < 0 or number != int(number)):
            return f"{key} must be a whole number of seconds, got {value!r}"
        if key == "st" and number <= 0:
            return f"st must be positive, got {value!r}"
        out[key] = int(number) if key in INTEGER_ATTRIBUTES else number
    pmin, pmax = out.get("pmin"), out.get("pmax")
    if pmin is not None and pmax is not None and pmax < pmin:
        return f"pmax ({pmax}) must not be less than pmin ({pmin})"
    lt, gt, st = out.get("lt"), out.get("gt"), out.get("st")
    if lt is not None and gt is not None and not lt + 2 * (st or 0) < gt:
        return "lt + 2*st must be less than gt"
    return out


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    try:
        number = float(str(value))
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return int(number) if number.is_integer() and "." not in str(value) else number


def parse_rest(text: str) -> list[Parsed]:
    """REST mode: a JSON object or a list of objects with ``method`` and ``path``."""
    try:
        document = json_text.loads(text)
    except ValueError as error:
        return [Refused(BAD_PAYLOAD, f"not JSON: {error}", text=text)]
    items = document if isinstance(document, list) else [document]
    if not items:
        return [Refused(BAD_PAYLOAD, "an empty list of commands", text=text)]
    return [_rest_item(item) for item in items]


def _rest_item(item: Any) -> Parsed:
    text = json_text.dumps(item, separators=(",", ":"))
    if not isinstance(item, dict):
        return Refused(BAD_PAYLOAD, "a command is a JSON object", text=text)
    name = item.get("method")
    method = NAMES.get(name.upper()) if isinstance(name, str) else None
    if method is None:
        return Refused(BAD_OPERATION, f"unknown method {name!r}", text=text)
    written = item.get("path")
    path = normalise_path(written) if isinstance(written, str) else None
    if path is None:
        shown = None if written is None else str(written)
        return Refused(BAD_PATH, f"bad path {written!r}", method, shown, text)
    if method is Method.WRITE:
        value = item.get("value", item.get("payload"))
        if value is None or isinstance(value, dict | list) or value == "":
            return Refused(VALUE_MANDATORY, "no value", method, path, text)
        return Command(method, path, value, text=text)
    if method is Method.OBSERVE:
        given = dict(item.get("attributes") or {})
        given.update({k: v for k, v in item.items() if k not in ("method", "path", "attributes")})
        attributes = _attributes(given)
        if isinstance(attributes, str):
            return Refused(BAD_PAYLOAD, attributes, method, path, text)
        return Command(method, path, attributes=attributes, text=text)
    return Command(method, path, text=text)
