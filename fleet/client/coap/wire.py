"""The CoAP wire format: aiocoap's ``Message`` for options and codes, our own header handling.

This is the one module of the subpackage that imports aiocoap. We use only its
``Message`` (decoding, option views, codes) and ``Options.encode``; the 4-byte
header of RFC 7252 §3 is packed here so that an outgoing message is encoded
without copying or mutating the caller's ``Message``, and so that empty messages
(ACK, RST, ping) never go through a full decode.

The hot path of a device (the same few requests again and again) avoids
aiocoap's per-message work where the result is known: :func:`decode` keeps the
decoded options of recent payload-less messages by their option bytes (up to
:data:`MAX_KEPT_OPTIONS` bytes) (each
message still gets its own ``Options``, so nobody sees another's changes);
:func:`content` builds a response with a content format from a kept option;
:func:`encode` keeps the bytes of a lone option (a content format, an observe
number). Each cache is bounded (:data:`MAX_KEPT` entries, then started afresh).
"""

from __future__ import annotations

import struct
from typing import Any, Final, TypeAlias

from aiocoap import Message  # type: ignore[import-untyped,unused-ignore]
from aiocoap.message import Direction  # type: ignore[import-untyped,unused-ignore]
from aiocoap.numbers.codes import Code  # type: ignore[import-untyped,unused-ignore]
from aiocoap.numbers.constants import (  # type: ignore[import-untyped,unused-ignore]
    TransportTuning,
)
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
    "content",
    "copy_options",
    "decode",
    "empty_message",
    "encode",
    "is_plain",
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


MAX_KEPT = 1024
"""Entries of each cache of this module (decoded options, encoded lone options)."""
MAX_KEPT_OPTIONS = 64
"""Longest option bytes whose decoding is kept (a GET's Uri-Path and Accept fit)."""

_TYPES: tuple[Any, ...] = tuple(Type(number) for number in range(4))
_CODES: tuple[Any, ...] = tuple(Code(number) for number in range(256))
_TUNING = TransportTuning()  # holds no state: one for every message made here
_INCOMING, _OUTGOING = Direction.INCOMING, Direction.OUTGOING
_decoded: dict[bytes, dict[int, list[Any]]] = {}
_encoded: dict[tuple[int, Any], bytes] = {}
_formats: dict[int, Any] = {}


def _message(mtype: Any, mid: Any, code: Any, token: bytes, payload: bytes, opt: Any) -> Any:
    """A ``Message`` with these fields, made without ``Message.__init__``'s checks."""
    message = Message.__new__(Message)
    message.__dict__ = {
        "version": 1,
        "mtype": mtype,
        "mid": mid,
        "code": code,
        "token": token,
        "payload": payload,
        "opt": opt,
        "remote": None,
        "direction": _OUTGOING,
        "transport_tuning": _TUNING,
    }
    return message


def decode(data: bytes, remote: Address) -> Any:
    """``Message.decode(data, remote)``, from kept options when ``data`` has no payload.

    Raises what ``Message.decode`` raises for a malformed message.
    """
    first = data[0]
    rest = data[4 + (first & 0x0F) :]
    known = _decoded.get(rest)
    if known is None:
        message = Message.decode(data, remote)
        if not message.payload and len(rest) <= MAX_KEPT_OPTIONS:
            if len(_decoded) >= MAX_KEPT:
                _decoded.clear()
            _decoded[rest] = {number: list(items) for number, items in message.opt._options.items()}
        return message
    opt = Options.__new__(Options)
    opt._options = {number: items[:] for number, items in known.items()}
    message = _message(
        _TYPES[(first >> 4) & 3],
        (data[2] << 8) | data[3],
        _CODES[data[1]],
        data[4 : 4 + (first & 0x0F)],
        b"",
        opt,
    )
    message.remote = remote
    message.direction = _INCOMING
    return message


def content(code: int, payload: bytes, content_format: int) -> Any:
    """``Message(code=code, payload=payload, content_format=content_format)``, made faster."""
    option = _formats.get(content_format)
    if option is None:
        scratch = Options()
        scratch.content_format = content_format
        option = _formats[content_format] = scratch.get_option(12)[0]
    opt = Options.__new__(Options)
    opt._options = {12: [option]}
    return _message(None, None, _CODES[code], b"", payload, opt)


def _encode_options(options: Any) -> bytes:
    """``options.encode()``; a lone option's bytes are kept by its number and value."""
    found = options._options
    if len(found) != 1:
        return options.encode()  # type: ignore[no-any-return]
    for number, items in found.items():
        if len(items) != 1:
            break
        key = (number, items[0].value)
        try:
            data = _encoded.get(key)
        except TypeError:  # a value that cannot be a key
            break
        if data is None:
            data = options.encode()
            if len(_encoded) >= MAX_KEPT:
                _encoded.clear()
            _encoded[key] = data
        return data
    return options.encode()  # type: ignore[no-any-return]


def encode(mtype: int, code: int, mid: int, token: bytes, options: Any, payload: bytes) -> bytes:
    """Encode one message from its parts (``options`` is an aiocoap ``Options``)."""
    head = _HEADER.pack(0x40 | (mtype << 4) | len(token), code, mid)
    opts: bytes = _encode_options(options)
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


_PLAIN: Final = frozenset({3, 7, 11, 12, 15, 17})


def is_plain(message: Any) -> bool:
    """Whether ``message`` has only options this layer leaves to the handler (Uri-Host,
    Uri-Port, Uri-Path, Uri-Query, Content-Format, Accept): no Observe, no blocks, nothing
    unknown, so the server role can skip looking for them."""
    return message.opt._options.keys() <= _PLAIN  # type: ignore[no-any-return]


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
