"""The CBOR reader and writer against RFC 8949 Appendix A, and its refusals."""

from __future__ import annotations

import math

import pytest

from fleet.codec.cborwire import MAX_DEPTH, Tag, dumps, loads
from fleet.errors import CodecError


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, "00"),
        (1, "01"),
        (10, "0a"),
        (23, "17"),
        (24, "1818"),
        (25, "1819"),
        (100, "1864"),
        (1000, "1903e8"),
        (1000000, "1a000f4240"),
        (1000000000000, "1b000000e8d4a51000"),
        (18446744073709551615, "1bffffffffffffffff"),
        (-18446744073709551616, "3bffffffffffffffff"),
        (-1, "20"),
        (-10, "29"),
        (-100, "3863"),
        (-1000, "3903e7"),
        (False, "f4"),
        (True, "f5"),
        (None, "f6"),
        ("", "60"),
        ("a", "6161"),
        ("IETF", "6449455446"),
        ("\u00fc", "62c3bc"),
        (b"", "40"),
        (b"\x01\x02\x03\x04", "4401020304"),
        ([], "80"),
        ([1, [2, 3], [4, 5]], "8301820203820405"),
        ({}, "a0"),
        ({1: 2, 3: 4}, "a201020304"),
        ({"a": 1, "b": [2, 3]}, "a26161016162820203"),
        (Tag(1, 1363896240), "c11a514b67b0"),
        (1.1, "fb3ff199999999999a"),
    ],
)
def test_rfc_8949_examples_both_ways(value: object, encoded: str) -> None:
    assert dumps(value).hex() == encoded
    assert loads(bytes.fromhex(encoded)) == value


def test_array_keys_are_tuples_both_ways() -> None:
    assert dumps({(3, 0, 0): "x"}).hex() == "a183030000" + "6178"
    assert loads(bytes.fromhex("a1830300006178")) == {(3, 0, 0): "x"}


@pytest.mark.parametrize(
    ("encoded", "value"),
    [
        ("f90000", 0.0),
        ("f93c00", 1.0),
        ("f93e00", 1.5),
        ("f97bff", 65504.0),
        ("f9c400", -4.0),
        ("fa47c35000", 100000.0),
        ("fa7f7fffff", 3.4028234663852886e38),
        ("f97c00", math.inf),
        ("fbc010666666666666", -4.1),
    ],
)
def test_floats_of_every_width_decode(encoded: str, value: float) -> None:
    decoded = loads(bytes.fromhex(encoded))
    assert isinstance(decoded, float)
    assert decoded == value


@pytest.mark.parametrize(
    ("encoded", "value"),
    [
        ("5f42010243030405ff", b"\x01\x02\x03\x04\x05"),
        ("7f657374726561646d696e67ff", "streaming"),
        ("9fff", []),
        ("9f018202039f0405ffff", [1, [2, 3], [4, 5]]),
        ("bf61610161629f0203ffff", {"a": 1, "b": [2, 3]}),
        ("c074323031332d30332d32315432303a30343a30305a", Tag(0, "2013-03-21T20:04:00Z")),
    ],
)
def test_indefinite_lengths_and_tags_decode(encoded: str, value: object) -> None:
    assert loads(bytes.fromhex(encoded)) == value


@pytest.mark.parametrize(
    ("encoded", "reason"),
    [
        ("", "ends inside"),
        ("0000", "after the data item"),
        ("1901", "announced"),
        ("1c", "reserved"),
        ("9bffffffffffffffff", "items announced"),
        ("bbffffffffffffffff", "items announced"),
        ("5bffffffffffffffff", "bytes announced"),
        ("a201020103", "duplicate map key"),
        ("62fffe", "not UTF-8"),
        ("f7", "simple value 23"),
        ("f820", "simple value 24"),
        ("ff", "unexpected break"),
        ("5f6161ff", "wrong type"),
        ("5f4101", "not terminated"),
        ("bf01", "ends inside"),
        ("bf", "not terminated"),
        ("9f01", "ends inside"),
        ("a1a000", "unsupported map key"),
        ("a1f93c0000", "unsupported map key"),
        ("a1f500", "unsupported map key"),
        ("a182f50000", "only integers and text"),
        ("1f", "indefinite"),
        ("dfff", "indefinite length"),
    ],
)
def test_malformed_cbor_is_a_codec_error(encoded: str, reason: str) -> None:
    with pytest.raises(CodecError, match=reason):
        loads(bytes.fromhex(encoded))


def test_nesting_is_bounded() -> None:
    deep_enough = bytes([0x81] * MAX_DEPTH) + b"\x00"
    assert loads(deep_enough) is not None
    with pytest.raises(CodecError, match="deeper"):
        loads(bytes([0x81] * (MAX_DEPTH + 1)) + b"\x00")
    with pytest.raises(CodecError, match="deeper"):
        loads(bytes([0x9F] * 10_000))


def test_writer_refuses_what_cbor_cannot_hold() -> None:
    with pytest.raises(CodecError, match="64-bit"):
        dumps(2**64)
    with pytest.raises(CodecError, match="cannot write"):
        dumps(object())
