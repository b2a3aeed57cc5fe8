"""LwM2M TLV: headers, value widths, every path level, and what a decoder refuses."""

from __future__ import annotations

import pytest

from fleet.codec import ContentFormat, decode, encode
from fleet.codec.tlv import MULTIPLE_RESOURCE, OBJECT_INSTANCE, RESOURCE, header
from fleet.errors import CodecError
from fleet.model import (
    ModelRegistry,
    MultiResource,
    ObjectInstance,
    ObjectLink,
    ObjectNode,
    Path,
    ResourceInstance,
    SingleResource,
    Value,
)

F = ContentFormat
P = Path.parse


@pytest.mark.parametrize(
    ("kind", "id_", "length", "expected"),
    [
        (RESOURCE, 0, 7, "c700"),
        (RESOURCE, 0, 8, "c80008"),
        (RESOURCE, 255, 255, "c8ffff"),
        (RESOURCE, 256, 256, "f001000100"),
        (MULTIPLE_RESOURCE, 6, 0, "8006"),
        (OBJECT_INSTANCE, 65534, 65536, "38fffe010000"),
        (OBJECT_INSTANCE, 1, 0xFFFFFF, "1801ffffff"),
    ],
)
def test_header_layout(kind: int, id_: int, length: int, expected: str) -> None:
    assert header(kind, id_, length).hex() == expected


def test_header_refuses_values_longer_than_24_bits() -> None:
    with pytest.raises(CodecError, match="at most"):
        header(RESOURCE, 0, 0x1000000)


@pytest.mark.parametrize(
    ("rid", "value", "encoded"),
    [
        (120, 0, "c17800"),
        (120, 127, "c1787f"),
        (120, 128, "c2780080"),
        (120, -128, "c17880"),
        (120, -129, "c278ff7f"),
        (120, 32767, "c2787fff"),
        (120, 32768, "c47800008000"),
        (120, 2**31, "c878080000000080000000"),
        (120, -(2**63), "c878088000000000000000"),
        (125, 255, "c17dff"),
        (125, 256, "c27d0100"),
        (125, 2**64 - 1, "c87d08ffffffffffffffff"),
        (130, 1.5, "c882083ff8000000000000"),
        (140, True, "c18c01"),
        (140, False, "c18c00"),
        (150, b"", "c096"),
        (160, 1367491215, "c4a05182428f"),
        (170, ObjectLink(66, 1), "c4aa00420001"),
        (110, "é", "c26ec3a9"),
    ],
)
def test_value_encodings(models: ModelRegistry, rid: int, value: Value, encoded: str) -> None:
    path = P(f"/3442/0/{rid}")
    node = SingleResource(rid, value)
    assert encode(F.TLV, node, path, models).hex() == encoded
    assert decode(F.TLV, bytes.fromhex(encoded), path, models) == node


def test_float_of_four_bytes_decodes(models: ModelRegistry) -> None:
    node = decode(
        F.TLV, bytes.fromhex("c482") + bytes.fromhex("3fc00000"), P("/3442/0/130"), models
    )
    assert node == SingleResource(130, 1.5)


def test_every_level(models: ModelRegistry) -> None:
    multi = MultiResource(6, {0: 1, 1: 5})
    cases: list[tuple[str, object, str]] = [
        ("/3/0/6/1", ResourceInstance(1, 5), "410105"),
        ("/3/0/6", multi, "8606410001410105"),
        ("/3/0/6", MultiResource(6, {}), "8006"),
        ("/3/0/9", SingleResource(9, 100), "c10964"),
        ("/3/0", ObjectInstance(0, {6: multi}), "8606410001410105"),
        ("/3/0", ObjectInstance(0, {}), ""),
        ("/3", ObjectNode(3, {0: ObjectInstance(0, {9: SingleResource(9, 1)})}), "0300c10901"),
        ("/3", ObjectNode(3, {0: ObjectInstance(0, {})}), "0000"),
        ("/3", ObjectNode(3, {}), ""),
    ]
    for path, node, payload in cases:
        assert encode(F.TLV, node, P(path), models).hex() == payload  # type: ignore[arg-type]
        assert decode(F.TLV, bytes.fromhex(payload), P(path), models) == node


def test_instance_payload_may_be_wrapped_in_its_instance_tlv(models: ModelRegistry) -> None:
    node = decode(F.TLV, bytes.fromhex("0300c10964"), P("/3/0"), models)
    assert node == ObjectInstance(0, {9: SingleResource(9, 100)})
    with pytest.raises(CodecError, match="holds object instance 1"):
        decode(F.TLV, bytes.fromhex("0301c10964"), P("/3/0"), models)


def test_sixteen_bit_resource_instance_ids(models: ModelRegistry) -> None:
    node = MultiResource(1120, {310: 1, 65534: -1})
    path = P("/3442/0/1120")
    payload = encode(F.TLV, node, path, models)
    assert payload.hex() == "a8046008" + "61013601" + "61fffeff"
    assert decode(F.TLV, payload, path, models) == node


@pytest.mark.parametrize(
    ("path", "payload", "reason"),
    [
        ("/3/0", "c8", "header truncated"),
        ("/3/0", "e809", "header truncated"),
        ("/3/0", "c80914", "announces 20 bytes"),
        ("/3/0", "d809ffffff", "announces 16777215 bytes"),
        ("/3/0", "0000c10964", "expected a resource TLV"),
        ("/3/0", "c10964410901", "expected a resource TLV"),
        ("/3/0", "c10964c10965", "appears twice"),
        ("/3/0", "c10665", "multiple-instance: expected a multiple TLV"),
        ("/3/0", "8009", "single-instance: got a multiple resource TLV"),
        ("/3/0", "8306c10601", "expected a resource instance TLV"),
        ("/3/0", "8606410001410005", "appears twice"),
        ("/3/0", "c3090000ff", "1, 2, 4 or 8 bytes, not 3"),
        ("/3/0", "c10965", "outside 0..100"),
        ("/3/0", "c16301", "no resource 99"),
        ("/3", "c10964", "expected object instance TLVs"),
        ("/3", "0000" + "0000", "appears twice"),
        ("/3/0/9", "c10a64", "names resource 10"),
        ("/3/0/9", "c10964c10964", "expected one TLV"),
        ("/3/0/9", "", "expected one TLV"),
        ("/3/0/6/1", "410205", "expected resource instance TLV 1"),
        ("/3/0/9/1", "410105", "has no instances"),
        ("/3442/0/140", "c18c02", "one byte 0 or 1"),
        ("/3442/0/130", "c382000000", "4 or 8 bytes"),
        ("/3442/0/170", "c3aa000000", "4 bytes"),
        ("/3442/0/110", "c26efffe", "not UTF-8"),
        ("/", "", "cannot carry a composite"),
    ],
)
def test_refusals(models: ModelRegistry, path: str, payload: str, reason: str) -> None:
    with pytest.raises(CodecError, match=reason):
        decode(F.TLV, bytes.fromhex(payload), P(path), models)


def test_lenient_decoding_skips_unknown_resources(models: ModelRegistry) -> None:
    node = decode(F.TLV, bytes.fromhex("c16301c10965"), P("/3/0"), models, strict=False)
    assert node == ObjectInstance(0, {9: SingleResource(9, 101)})


def test_encoder_checks_the_tree_against_the_model(models: ModelRegistry) -> None:
    with pytest.raises(CodecError, match="for a multiple-instance resource"):
        encode(F.TLV, ObjectInstance(0, {6: SingleResource(6, 1)}), P("/3/0"), models)
    with pytest.raises(CodecError, match="cannot write str"):
        encode(F.TLV, SingleResource(9, "full"), P("/3/0/9"), models)
    with pytest.raises(CodecError, match="executable"):
        encode(F.TLV, ObjectInstance(0, {4: SingleResource(4, 1)}), P("/3/0"), models)
