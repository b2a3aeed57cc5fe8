"""Pre-shared keys as platforms export them, and the identity/key pair of one device.

:func:`parse_psk_key` reads ``hex:…``, ``base64:…`` or a bare value; a
:class:`PskCredentials` never shows its key in a ``repr`` or an error message.
Pure data: no DTLS package is needed to build or check credentials.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field

_HEX = re.compile(r"[0-9a-fA-F]+")


def parse_psk_key(text: str) -> bytes:
    """A pre-shared key as platforms export it: ``hex:…``, ``base64:…``, or bare.

    A bare value made only of an even number of hex digits is read as hex,
    anything else as (strict) base64. Raises ``ValueError`` without quoting the key.
    """
    value = text.strip()
    kind, sep, rest = value.partition(":")
    if sep and kind.lower() in ("hex", "base64", "b64"):
        value = rest.strip()
        if kind.lower() == "hex":
            return _from_hex(value)
        return _from_base64(value)
    if _HEX.fullmatch(value) and len(value) % 2 == 0:
        return _from_hex(value)
    return _from_base64(value)


def _from_hex(value: str) -> bytes:
    try:
        key = bytes.fromhex(value)
    except ValueError:
        raise ValueError("the pre-shared key is not valid hex") from None
    if not key:
        raise ValueError("the pre-shared key is empty")
    return key


def _from_base64(value: str) -> bytes:
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the pre-shared key is neither hex nor base64") from None
    if not key:
        raise ValueError("the pre-shared key is empty")
    return key


@dataclass(frozen=True, slots=True)
class PskCredentials:
    """A PSK identity and key; the key never appears in ``repr``."""

    identity: bytes
    key: bytes = field(repr=False)

    @classmethod
    def of(cls, identity: str | bytes, key: str | bytes) -> PskCredentials:
        """Text identity (UTF-8) and key (hex or base64, see :func:`parse_psk_key`) or raw bytes."""
        ident = identity.encode() if isinstance(identity, str) else identity
        raw = parse_psk_key(key) if isinstance(key, str) else key
        if not ident:
            raise ValueError("the PSK identity is empty")
        if not raw:
            raise ValueError("the pre-shared key is empty")
        return cls(ident, raw)

    def __repr__(self) -> str:
        return f"PskCredentials(identity={self.identity!r}, key=<{len(self.key)} bytes>)"
