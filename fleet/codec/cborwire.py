"""A small, hardened CBOR (RFC 8949) reader and writer for the CBOR-based formats.

CBOR (60), SenML CBOR (112) and LwM2M CBOR (11544) need only a subset of CBOR,
but they need it exactly: map keys in the order the specification's examples
show them, array keys (LwM2M CBOR paths), and a decoder that treats every byte
as hostile. This module writes and reads that subset with no dependency.

Decoded data model: ``int``, ``float`` (half, single and double precision),
``str``, ``bytes``, ``bool``, ``None``, ``list``, ``dict`` (keys ``int``,
``str`` or ``tuple`` for an array key) and :class:`Tag`. Anything else (other
simple values, ``undefined``, maps or floats as keys, duplicate keys, trailing
bytes, nesting deeper than :data:`MAX_DEPTH`) is a :class:`CodecError`. A
declared length is checked against the bytes that remain before anything is
allocated, so a payload cannot make the decoder loop or grow without bound.

The writer emits the shortest integer heads (RFC 8949 §4.2.1), definite
lengths, maps in insertion order and floats as 64-bit doubles.
"""

from __future__ import annotations

import struct
from typing import Final, NamedTuple

from fleet.codec.cbor_fast import NOT_PLAIN, fast_loads
from fleet.errors import CodecError

MAX_DEPTH: Final = 16
"""Deepest nesting of arrays, maps and tags the reader accepts."""

_UINT64_MAX: Final = 2**64 - 1


class Tag(NamedTuple):
    """A tagged data item (major type 6)."""

    number: int
    value: object


CborItem = object
"""What :func:`loads` returns and :func:`dumps` takes (see the module docstring)."""


# ------------------------------------------------------------------ writer


def _head(out: bytearray, major: int, value: int) -> None:
    top = major << 5
    if value < 24:
        out.append(top | value)
    elif value < 0x100:
        out.append(top | 24)
        out.append(value)
    elif value < 0x10000:
        out.append(top | 25)
        out += value.to_bytes(2, "big")
    elif value < 0x100000000:
        out.append(top | 26)
        out += value.to_bytes(4, "big")
    else:
        out.append(top | 27)
        out += value.to_bytes(8, "big")


def _write(out: bytearray, item: object) -> None:
    kind = type(item)
    if kind is str:
        data = item.encode("utf-8")  # type: ignore[attr-defined]
        _head(out, 3, len(data))
        out += data
    elif kind is int:
        _write_int(out, item)  # type: ignore[arg-type]
    elif kind is dict:
        _head(out, 5, len(item))  # type: ignore[arg-type]
        for key, value in item.items():  # type: ignore[attr-defined]
            _write(out, key)
            _write(out, value)
    elif item is True:
        out.append(0xF5)
    elif item is False:
        out.append(0xF4)
    elif item is None:
        out.append(0xF6)
    elif isinstance(item, float):
        out.append(0xFB)
        out += struct.pack(">d", item)
    elif isinstance(item, int):
        _write_int(out, item)
    elif isinstance(item, str):
        _write(out, str(item))
    elif isinstance(item, bytes | bytearray):
        _head(out, 2, len(item))
        out += item
    elif isinstance(item, Tag):
        _head(out, 6, item.number)
        _write(out, item.value)
    elif isinstance(item, list | tuple):
        _head(out, 4, len(item))
        for element in item:
            _write(out, element)
    elif isinstance(item, dict):
        _write(out, dict(item))
    else:
        raise CodecError(f"cannot write {type(item).__name__} as CBOR")


def _write_int(out: bytearray, item: int) -> None:
    if 0 <= item <= _UINT64_MAX:
        _head(out, 0, item)
    elif -(2**64) <= item < 0:
        _head(out, 1, -1 - item)
    else:
        raise CodecError(f"integer {item} does not fit CBOR's 64-bit integers")


def dumps(item: object) -> bytes:
    """Encode one CBOR data item."""
    out = bytearray()
    _write(out, item)
    return bytes(out)


# ------------------------------------------------------------------ reader

_BREAK: Final = object()


class _Reader:
    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self.end = len(data)

    def fail(self, reason: str) -> CodecError:
        return CodecError(f"bad CBOR at byte {self.pos}: {reason}")

    def take(self, count: int) -> bytes:
        if count > self.end - self.pos:
            raise self.fail(f"{count} bytes announced, {self.end - self.pos} left")
        start = self.pos
        self.pos += count
        return self.data[start : self.pos]

    def argument(self, info: int) -> int:
        if info < 24:
            return info
        if info == 24:
            return self.take(1)[0]
        if info == 25:
            return int.from_bytes(self.take(2), "big")
        if info == 26:
            return int.from_bytes(self.take(4), "big")
        if info == 27:
            return int.from_bytes(self.take(8), "big")
        raise self.fail(f"reserved additional information {info}")

    def item(self, depth: int) -> object:
        if depth > MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH}")
        if self.pos >= self.end:
            raise self.fail("payload ends inside an item")
        initial = self.data[self.pos]
        self.pos += 1
        major, info = initial >> 5, initial & 0x1F
        if major == 7:
            return self.simple(info)
        if info == 31:
            return self.indefinite(major, depth)
        arg = self.argument(info)
        if major == 0:
            return arg
        if major == 1:
            return -1 - arg
        if major == 2:
            return self.take(arg)
        if major == 3:
            return self.text(self.take(arg))
        if major == 4:
            self.room(arg)
            return [self.value(depth + 1) for _ in range(arg)]
        if major == 5:
            self.room(2 * arg)
            result: dict[object, object] = {}
            for _ in range(arg):
                self.pair(result, depth)
            return result
        return Tag(arg, self.value(depth + 1))

    def room(self, items: int) -> None:
        if items > self.end - self.pos:
            raise self.fail(f"{items} items announced, only {self.end - self.pos} bytes left")

    def value(self, depth: int) -> object:
        got = self.item(depth)
        if got is _BREAK:
            raise self.fail("unexpected break")
        return got

    def pair(self, result: dict[object, object], depth: int) -> None:
        key = self.value(depth + 1)
        if isinstance(key, list):
            if not all(isinstance(k, int | str) and not isinstance(k, bool) for k in key):
                raise self.fail("an array map key may hold only integers and text")
            key = tuple(key)
        elif isinstance(key, bool) or not isinstance(key, int | str):
            raise self.fail(f"unsupported map key {type(key).__name__}")
        if key in result:
            raise self.fail(f"duplicate map key {key!r}")
        result[key] = self.value(depth + 1)

    def text(self, raw: bytes) -> str:
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self.fail("text string is not UTF-8") from None

    def indefinite(self, major: int, depth: int) -> object:
        if major in (2, 3):
            chunks: list[bytes] = []
            while True:
                if self.pos >= self.end:
                    raise self.fail("indefinite string not terminated")
                initial = self.data[self.pos]
                if initial == 0xFF:
                    self.pos += 1
                    break
                if initial >> 5 != major or initial & 0x1F == 31:
                    raise self.fail("indefinite string chunk of the wrong type")
                self.pos += 1
                chunks.append(self.take(self.argument(initial & 0x1F)))
            joined = b"".join(chunks)
            return joined if major == 2 else self.text(joined)
        if major == 4:
            items: list[object] = []
            while (got := self.item(depth + 1)) is not _BREAK:
                items.append(got)
            return items
        if major == 5:
            result: dict[object, object] = {}
            while True:
                if self.pos >= self.end:
                    raise self.fail("indefinite map not terminated")
                if self.data[self.pos] == 0xFF:
                    self.pos += 1
                    return result
                self.pair(result, depth)
        raise self.fail(f"major type {major} cannot have an indefinite length")

    def simple(self, info: int) -> object:
        if info == 20:
            return False
        if info == 21:
            return True
        if info == 22:
            return None
        if info == 25:
            return float(struct.unpack(">e", self.take(2))[0])
        if info == 26:
            return float(struct.unpack(">f", self.take(4))[0])
        if info == 27:
            return float(struct.unpack(">d", self.take(8))[0])
        if info == 31:
            return _BREAK
        raise self.fail(f"unsupported simple value {info}")


def reference_loads(data: bytes) -> object:
    """Decode exactly one CBOR data item with the reader above; trailing bytes are an error.

    This is the decoder that defines what :func:`loads` returns and every error it raises.
    """
    reader = _Reader(bytes(data))
    item = reader.value(0)
    if reader.pos != reader.end:
        raise reader.fail(f"{reader.end - reader.pos} bytes after the data item")
    return item


def loads(data: bytes) -> object:
    """Decode exactly one CBOR data item; trailing bytes are an error.

    The same answer as :func:`reference_loads`, found ~10x faster by cbor2's C decoder
    (:mod:`fleet.codec.cbor_fast`) whenever its answer is provably the same; anything it
    does not vouch for (a tag, a duplicate key, an error ...) is decoded by the reader above.
    """
    item = fast_loads(data, MAX_DEPTH)
    return reference_loads(data) if item is NOT_PLAIN else item
