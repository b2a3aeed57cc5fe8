"""The CoAP wire format: aiocoap's ``Message`` for options and codes, our own header handling.

This is the one module of the subpackage that imports aiocoap. We use only its
``Message`` (decoding, option views, codes) and ``Options.encode``; the 4-byte
header of RFC 7252 §3 is packed here so that an outgoing message is encoded
without copying or mutating the caller's ``Message``, and so that empty messages
(ACK, RST, ping) never go through a full decode.
"""

from __future__ import annotations

import struct
from typing import Any, TypeAlias

from aiocoap import Message  # type: ignore[import-untyped,unused-ignore]
from aiocoap.numbers.codes import Code  # type: ignore[import-untyped,unused-ignore]
from aiocoap.numbers.types import Type  # type: ignore[import-untyped,unused-ignore]
from aiocoap.options import Options  # type: ignore[import-untyped,unused-ignore]

__all__ = [
    "ACK",
    "CON",
    "NON",
    "RST",
    "Address",
    "Code",
    "IncomingRequest",
    "Message",
    "Options",
    "Response",
    "Type",
    "copy_options",
    "empty_message",
    "encode",
    "normalize_address",
    "unknown_critical_option",
]

Address: TypeAlias = tuple[str, int]
"""A peer: numeric host as the operating system reports it, and port."""

IncomingRequest: TypeAlias = Any
"""An aiocoap ``Message`` decoded from the wire; ``.remote`` is an :data:`Address`."""

Response: TypeAlias = Any
"""An aiocoap ``Message`` with a response code, built by a handler or received."""

CON, NON, ACK, RST = 0, 1, 2, 3

_HEADER = struct.Struct("!BBH")

# Options this layer or the handlers above it understand (RFC 7252, 7641, 7959, 7967, 9175).
# An unknown *critical* (odd-numbered) option makes a request fail with 4.02 Bad Option;
# Proxy-Uri and Proxy-Scheme (we are no proxy) with 5.05 Proxying Not Supported.
KNOWN_OPTIONS = frozenset(
    {1, 3, 4, 5, 6, 7, 8, 11, 12, 14, 15, 17, 20, 23, 27, 28, 60, 252, 258, 292}
)
PROXY_OPTIONS = frozenset({35, 39})

OBSERVE = 6
BLOCK2 = 23
BLOCK1 = 27


def encode(mtype: int, code: int, mid: int, token: bytes, options: Any, payload: bytes) -> bytes:
    """Encode one message from its parts (``options`` is an aiocoap ``Options``)."""
    head = _HEADER.pack(0x40 | (mtype << 4) | len(token), code, mid)
    opts: bytes = options.encode()
    if payload:
        return b"".join((head, token, opts, b"\xff", payload))
    return b"".join((head, token, opts))


def empty_message(mtype: int, mid: int) -> bytes:
    """An empty message (code 0.00, no token): ACK, RST or a CON ping."""
    return _HEADER.pack(0x40 | (mtype << 4), 0, mid)


def copy_options(options: Any, drop: frozenset[int] = frozenset()) -> Any:
    """A new ``Options`` holding the same option objects, except the numbers in ``drop``."""
    copied = Options()
    for option in options.option_list():
        if int(option.number) not in drop:
            copied.add_option(option)
    return copied


def unknown_critical_option(message: Any) -> int | None:
    """The number of the first critical option nobody here understands, or ``None``."""
    for option in message.opt.option_list():
        number = int(option.number)
        if number & 1 and number not in KNOWN_OPTIONS:
            return number
    return None


def normalize_address(address: tuple[Any, ...]) -> Address:
    """``(host, port)`` from a socket address (IPv6 flow info and scope id are dropped;
    a scoped host keeps its ``%zone`` suffix as the operating system writes it)."""
    return (address[0], address[1])


def default_code(request_code: int) -> Any:
    """The success code a handler's response gets when it set none (RFC 7252 §5.9.1)."""
    if request_code == Code.POST:
        return Code.CHANGED
    if request_code == Code.PUT:
        return Code.CHANGED
    if request_code == Code.DELETE:
        return Code.DELETED
    return Code.CONTENT
