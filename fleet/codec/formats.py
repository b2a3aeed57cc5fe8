"""The CoAP content formats LwM2M uses, and how users name them.

:class:`ContentFormat` holds the numbers of the CoAP Content-Formats registry
that LwM2M payloads travel in. :func:`parse_format` turns what a user types
(``tlv``, ``senml-cbor``, ``11542``...) into one of them, with an error that
lists the accepted names.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Final

from fleet.errors import UnsupportedContentFormat


class ContentFormat(IntEnum):
    """CoAP Content-Format numbers of the LwM2M data formats."""

    TEXT = 0
    LINK = 40
    OPAQUE = 42
    CBOR = 60
    SENML_JSON = 110
    SENML_CBOR = 112
    TLV = 11542
    LWM2M_JSON = 11543
    LWM2M_CBOR = 11544

    @property
    def short_name(self) -> str:
        """The name users type: ``tlv``, ``senml-json``..."""
        return _SHORT_NAMES[self]

    @property
    def media_type(self) -> str:
        """The media type registered for the number."""
        return _MEDIA_TYPES[self]


_SHORT_NAMES: Final[dict[ContentFormat, str]] = {
    ContentFormat.TEXT: "text",
    ContentFormat.LINK: "link",
    ContentFormat.OPAQUE: "opaque",
    ContentFormat.CBOR: "cbor",
    ContentFormat.SENML_JSON: "senml-json",
    ContentFormat.SENML_CBOR: "senml-cbor",
    ContentFormat.TLV: "tlv",
    ContentFormat.LWM2M_JSON: "lwm2m-json",
    ContentFormat.LWM2M_CBOR: "lwm2m-cbor",
}

_MEDIA_TYPES: Final[dict[ContentFormat, str]] = {
    ContentFormat.TEXT: "text/plain;charset=utf-8",
    ContentFormat.LINK: "application/link-format",
    ContentFormat.OPAQUE: "application/octet-stream",
    ContentFormat.CBOR: "application/cbor",
    ContentFormat.SENML_JSON: "application/senml+json",
    ContentFormat.SENML_CBOR: "application/senml+cbor",
    ContentFormat.TLV: "application/vnd.oma.lwm2m+tlv",
    ContentFormat.LWM2M_JSON: "application/vnd.oma.lwm2m+json",
    ContentFormat.LWM2M_CBOR: "application/vnd.oma.lwm2m+cbor",
}

_ALIASES: Final[dict[str, ContentFormat]] = {
    "plain": ContentFormat.TEXT,
    "text/plain": ContentFormat.TEXT,
    "link-format": ContentFormat.LINK,
    "octet-stream": ContentFormat.OPAQUE,
    "json": ContentFormat.LWM2M_JSON,
}


def _key(text: str) -> str:
    return text.strip().lower().replace("_", "-")


def parse_format(text: str | int) -> ContentFormat:
    """``"tlv"``, ``"senml-cbor"``, ``"SENML_CBOR"``, ``"11542"`` or ``11542`` to a format.

    Raises :class:`UnsupportedContentFormat` naming the accepted spellings.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        try:
            return ContentFormat(text)
        except ValueError:
            raise UnsupportedContentFormat(
                f"content format {text} is not an LwM2M format; {_accepted()}"
            ) from None
    if not isinstance(text, str):
        raise UnsupportedContentFormat(f"a content format is a name or a number, got {text!r}")
    key = _key(text)
    if key.isascii() and key.isdigit():
        return parse_format(int(key))
    for fmt, name in _SHORT_NAMES.items():
        if key == name:
            return fmt
    for fmt in ContentFormat:
        if key in (_key(fmt.name), fmt.media_type.split(";")[0]):
            return fmt
    if key in _ALIASES:
        return _ALIASES[key]
    raise UnsupportedContentFormat(f"unknown content format {text!r}; {_accepted()}")


def _accepted() -> str:
    names = ", ".join(f"{name} ({int(fmt)})" for fmt, name in _SHORT_NAMES.items())
    return f"use one of {names}"


def format_label(fmt: ContentFormat | int) -> str:
    """``"tlv (11542)"`` for messages; unknown numbers as the bare number."""
    try:
        known = ContentFormat(fmt)
    except ValueError:
        return str(int(fmt))
    return f"{known.short_name} ({int(known)})"
