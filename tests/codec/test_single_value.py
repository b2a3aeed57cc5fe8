"""Plain text (0), opaque (42) and CBOR (60): one value per payload, every type."""

from __future__ import annotations

import math

import pytest

from fleet.codec import ContentFormat, decode, encode
from fleet.errors import CodecError
from fleet.model import ModelRegistry, ObjectLink, Path, ResourceInstance, SingleResource, Value

F = ContentFormat
P = Path.parse
TEST = "/3442/0/"


@pytest.mark.parametrize(
    ("rid", "value", "text"),
    [
        (110, "héllo, wörld", "héllo, wörld"),
        (120, -9223372036854775808, "-9223372036854775808"),
        (120, 9223372036854775807, "9223372036854775807"),
        (125, 18446744073709551615, "18446744073709551615"),
        (130, 1.5, "1.5"),
        (130, -0.25, "-0.25"),
        (130, 1e-05, "0.00001"),
        (130, 1e20, "100000000000000000000.0"),
        (130, 3.0, "3.0"),
        (140, True, "1"),
        (140, False, "0"),
        (150, b"\x00\xff\x10", "AP8Q"),
        (150, b"", ""),
        (160, -1, "-1"),
        (170, ObjectLink(3, 0), "3:0"),
        (170, ObjectLink(65535, 65535), "65535:65535"),
        (180, "</3/0>;ver=1.1", "</3/0>;ver=1.1"),
    ],
)
def test_text_form_of_every_type(models: ModelRegistry, rid: int, value: Value, text: str) -> None:
    path = P(f"{TEST}{rid}")
    node = SingleResource(rid, value)
    assert encode(F.TEXT, node, path, models) == text.encode()
    assert decode(F.TEXT, text.encode(), path, models) == node


@pytest.mark.parametrize(
    ("rid", "text", "value"),
    [
        (130, "1e3", 1000.0),
        (130, " 2.5 ", 2.5),
        (130, "7", 7.0),
        (170, "FFFF:FFFF", ObjectLink(65535, 65535)),
        (170, "3:1\x00", ObjectLink(3, 1)),
        (150, "AP8Q==", b"\x00\xff\x10"),
        (150, "_-8", b"\xff\xef"),
    ],
)
def test_text_decoding_tolerates(models: ModelRegistry, rid: int, text: str, value: Value) -> None:
    assert decode(F.TEXT, text.encode(), P(f"{TEST}{rid}"), models) == SingleResource(rid, value)


def test_text_non_finite_floats(models: ModelRegistry) -> None:
    path = P(f"{TEST}130")
    for value, text in ((math.inf, b"Infinity"), (-math.inf, b"-Infinity")):
        assert encode(F.TEXT, SingleResource(130, value), path, models) == text
        assert decode(F.TEXT, text, path, models) == SingleResource(130, value)
    nan = decode(F.TEXT, b"NaN", path, models)
    assert isinstance(nan, SingleResource) and isinstance(nan.value, float)
    assert math.isnan(nan.value)


@pytest.mark.parametrize(
    ("path", "payload", "reason"),
    [
        (f"{TEST}120", b"12a", "is not a valid Integer"),
        (f"{TEST}120", b"1_000", "is not a valid Integer"),
        (f"{TEST}120", b"9223372036854775808", "does not fit"),
        (f"{TEST}125", b"-1", "does not fit"),
        (f"{TEST}130", b"one", "is not a Float"),
        (f"{TEST}140", b"2", "not a Boolean"),
        (f"{TEST}140", b"true", "not a Boolean"),
        (f"{TEST}150", b"***", "not base64"),
        (f"{TEST}170", b"3", "OBJECT:INSTANCE"),
        (f"{TEST}110", b"\xff\xfe", "not UTF-8"),
        (f"{TEST}120", b"1" * 500, "too long"),
        ("/3/0/9", b"101", "outside 0..100"),
        ("/3/0", b"1", "belongs to a resource"),
        ("/3/0/6", b"1", "multiple-instance"),
        ("/3/0/9/0", b"1", "has no instances"),
        ("/3/0/4", b"1", "executable"),
        ("/3/0/99", b"1", "no resource 99"),
        ("/9999/0/0", b"1", "no definition for object 9999"),
    ],
)
def test_text_refusals(models: ModelRegistry, path: str, payload: bytes, reason: str) -> None:
    with pytest.raises(CodecError, match=reason):
        decode(F.TEXT, payload, P(path), models)


def test_lenient_decoding_skips_range_checks(models: ModelRegistry) -> None:
    node = decode(F.TEXT, b"101", P("/3/0/9"), models, strict=False)
    assert node == SingleResource(9, 101)


def test_text_resource_instance(models: ModelRegistry) -> None:
    node = ResourceInstance(1, 5)
    assert encode(F.TEXT, node, P("/3/0/6/1"), models) == b"5"
    assert decode(F.TEXT, b"5", P("/3/0/6/1"), models) == node


def test_text_cannot_carry_structures(models: ModelRegistry, device_instance: object) -> None:
    with pytest.raises(CodecError, match="carries one value"):
        encode(F.TEXT, device_instance, P("/3/0"), models)  # type: ignore[arg-type]
    with pytest.raises(CodecError, match="cannot sit at this path"):
        encode(F.TEXT, SingleResource(1, "x"), P("/3/0/0"), models)
    with pytest.raises(CodecError, match="cannot write int"):
        encode(F.TEXT, SingleResource(0, 5), P("/3/0/0"), models)


def test_opaque_carries_opaque_resources_only(models: ModelRegistry) -> None:
    path = P(f"{TEST}150")
    node = SingleResource(150, b"\x00\x01\xfe")
    assert encode(F.OPAQUE, node, path, models) == b"\x00\x01\xfe"
    assert decode(F.OPAQUE, b"\x00\x01\xfe", path, models) == node
    assert decode(F.OPAQUE, b"", path, models) == SingleResource(150, b"")
    with pytest.raises(CodecError, match="carries Opaque values"):
        decode(F.OPAQUE, b"x", P(f"{TEST}110"), models)
    with pytest.raises(CodecError, match="carries Opaque values"):
        encode(F.OPAQUE, SingleResource(110, "x"), P(f"{TEST}110"), models)
    instance = ResourceInstance(4, b"\x07")
    assert decode(F.OPAQUE, b"\x07", P(f"{TEST}1150/4"), models) == instance


@pytest.mark.parametrize(
    ("rid", "value", "encoded"),
    [
        (110, "test_string", "6b746573745f737472696e67"),
        (120, 3800, "190ed8"),
        (120, -128, "387f"),
        (120, -9223372036854775808, "3b7fffffffffffffff"),
        (125, 18446744073709551615, "1bffffffffffffffff"),
        (130, 3.0, "fb4008000000000000"),
        (130, -123.125, "fbc05ec80000000000"),
        (140, True, "f5"),
        (150, b"test_opaque", "4b746573745f6f7061717565"),
        (160, 1367491215, "1a5182428f"),
        (170, ObjectLink(1, 2), "63313a32"),
        (180, "</1>", "643c2f313e"),
    ],
)
def test_cbor_item_of_every_type(
    models: ModelRegistry, rid: int, value: Value, encoded: str
) -> None:
    path = P(f"{TEST}{rid}")
    node = SingleResource(rid, value)
    assert encode(F.CBOR, node, path, models).hex() == encoded
    assert decode(F.CBOR, bytes.fromhex(encoded), path, models) == node


@pytest.mark.parametrize(
    ("rid", "encoded", "value"),
    [
        (130, "f93e00", 1.5),
        (130, "fa47c35000", 100000.0),
        (130, "05", 5.0),
        (120, "fb4008000000000000", 3),
        (160, "c11a5182428f", 1367491215),
        (160, "c07819313937302d30312d30315430303a30303a30312d30303a3030", 1),
        (170, "64303a3000", ObjectLink(0, 0)),
        (170, "69464646463a46464646", ObjectLink(65535, 65535)),
    ],
)
def test_cbor_decoding_tolerates(
    models: ModelRegistry, rid: int, encoded: str, value: Value
) -> None:
    node = decode(F.CBOR, bytes.fromhex(encoded), P(f"{TEST}{rid}"), models)
    assert node == SingleResource(rid, value)
    assert isinstance(node, SingleResource)
    assert type(node.value) is type(value)


@pytest.mark.parametrize(
    ("rid", "encoded", "reason"),
    [
        (120, "6131", "expected an integer"),
        (120, "f93e00", "expected an integer"),
        (120, "c101", "tag 1 cannot hold a Integer"),
        (125, "20", "does not fit"),
        (120, "1bffffffffffffffff", "does not fit"),
        (110, "4101", "must be CBOR text"),
        (150, "6161", "byte string"),
        (140, "01", "true/false"),
        (170, "62333a", "OBJECT:INSTANCE"),
        (160, "c0626e6f", "not RFC 3339"),
        (160, "c26161", "tag 2 is not a Time"),
        (120, "f6", "expected an integer"),
        (120, "0101", "after the data item"),
        (120, "", "ends inside"),
    ],
)
def test_cbor_refusals(models: ModelRegistry, rid: int, encoded: str, reason: str) -> None:
    with pytest.raises(CodecError, match=reason):
        decode(F.CBOR, bytes.fromhex(encoded), P(f"{TEST}{rid}"), models)
