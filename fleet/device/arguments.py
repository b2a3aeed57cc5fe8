"""Execute arguments: the LwM2M ``0='abc',1`` syntax, parsed and written.

The LwM2M 1.1 core specification gives Execute arguments this grammar::

    arglist  = argument *( "," argument )
    argument = digit [ "=" "'" *argchar "'" ]
    digit    = "0" .. "9"
    argchar  = "!" / "#" .. "&" / "(" .. "[" / "]" .. "~"

so there is no whitespace, a value is always quoted with single quotes, and a
value may hold neither a space, a double quote, a single quote nor a
backslash. An empty payload means no arguments. :func:`parse_arguments` turns
a payload into ``{digit: value or None}`` (``None`` when the argument has no
value) and raises :class:`~fleet.errors.BadRequest` (4.00) naming the position
of the first mistake; :func:`format_arguments` writes the same syntax back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from fleet.errors import BadRequest

Arguments = Mapping[int, str | None]
"""Parsed Execute arguments: digit -> value (``None`` for an argument without a value)."""

ARG_CHARS: Final = frozenset(
    chr(c) for c in (0x21, *range(0x23, 0x27), *range(0x28, 0x5C), *range(0x5D, 0x7F))
)
"""The characters a quoted argument value may contain."""


def parse_arguments(payload: str | bytes | None) -> dict[int, str | None]:
    """Parse an Execute payload; an empty or missing payload has no arguments."""
    if payload is None:
        return {}
    if isinstance(payload, bytes | bytearray):
        try:
            text = bytes(payload).decode("ascii")
        except UnicodeDecodeError as exc:
            raise BadRequest(
                f"execute arguments must be ASCII; byte {exc.start} is 0x{payload[exc.start]:02x}"
            ) from None
    else:
        text = payload
    if text == "":
        return {}
    arguments: dict[int, str | None] = {}
    i, n = 0, len(text)
    while True:
        char = text[i] if i < n else ""
        if not char or not "0" <= char <= "9":
            raise _syntax(text, i, "expected an argument digit 0-9")
        digit = int(char)
        if digit in arguments:
            raise _syntax(text, i, f"argument {digit} is given twice")
        i += 1
        value: str | None = None
        if i < n and text[i] == "=":
            i += 1
            if i >= n or text[i] != "'":
                raise _syntax(text, i, "expected ' to open the value after =")
            i += 1
            start = i
            while i < n and text[i] != "'":
                if text[i] not in ARG_CHARS:
                    raise _syntax(text, i, f"character {text[i]!r} is not allowed in a value")
                i += 1
            if i >= n:
                raise _syntax(text, start - 1, "value is not closed with '")
            value = text[start:i]
            i += 1
        arguments[digit] = value
        if i == n:
            return arguments
        if text[i] != ",":
            raise _syntax(text, i, "expected ',' between arguments")
        i += 1


def format_arguments(arguments: Arguments) -> str:
    """Write arguments in the Execute syntax, e.g. ``0='abc',1``."""
    parts: list[str] = []
    for digit, value in arguments.items():
        if not 0 <= digit <= 9:
            raise ValueError(f"an argument is a single digit 0-9, got {digit}")
        if value is None:
            parts.append(str(digit))
            continue
        bad = [c for c in value if c not in ARG_CHARS]
        if bad:
            raise ValueError(f"argument {digit}: character {bad[0]!r} cannot be sent in a value")
        parts.append(f"{digit}='{value}'")
    return ",".join(parts)


def _syntax(text: str, position: int, reason: str) -> BadRequest:
    shown = text if len(text) <= 60 else text[:57] + "..."
    return BadRequest(f"bad execute arguments {shown!r} at position {position}: {reason}")
