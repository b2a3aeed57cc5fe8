"""Checking and converting values by resource type and range."""

from __future__ import annotations

import base64
import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleet.errors import InvalidValue
from fleet.model.definitions import ResourceModel
from fleet.model.ranges import parse_range
from fleet.model.types import Operations
from fleet.model.types import ResourceType as T
from fleet.model.values import (
    INT_MAX,
    INT_MIN,
    UINT_MAX,
    ObjectLink,
    check_value,
    coerce_value,
    default_value,
    opaque_from_text,
)


def res(type_: T, range_text: str = "", *, rid: int = 7, name: str = "Thing") -> ResourceModel:
    return ResourceModel(
        id=rid,
        name=name,
        operations=Operations.RW,
        multiple=False,
        mandatory=False,
        type=type_,
        range=parse_range(range_text, type_),
    )


# ------------------------------------------------------------------ integers


def test_unsigned_integer_bounds() -> None:
    resource = res(T.UNSIGNED_INTEGER)
    assert check_value(resource, 0) == 0
    assert check_value(resource, UINT_MAX) == 2**64 - 1
    with pytest.raises(InvalidValue, match=r"18446744073709551616 does not fit Unsigned Integer"):
        check_value(resource, 2**64)
    with pytest.raises(InvalidValue, match=r"-1 does not fit Unsigned Integer"):
        check_value(resource, -1)


def test_integer_is_64_bit_signed() -> None:
    resource = res(T.INTEGER)
    assert check_value(resource, INT_MIN) == -(2**63)
    assert check_value(resource, INT_MAX) == 2**63 - 1
    for bad in (INT_MAX + 1, INT_MIN - 1):
        with pytest.raises(InvalidValue, match="does not fit Integer"):
            check_value(resource, bad)


@given(st.integers(min_value=INT_MIN, max_value=INT_MAX))
def test_every_64_bit_integer_round_trips_through_text(value: int) -> None:
    assert coerce_value(res(T.INTEGER), str(value)) == value


@given(st.integers(min_value=0, max_value=UINT_MAX))
def test_every_unsigned_value_round_trips_through_text(value: int) -> None:
    assert coerce_value(res(T.UNSIGNED_INTEGER), str(value)) == value


def test_integer_refuses_bool_float_and_text() -> None:
    resource = res(T.INTEGER)
    for bad in (True, 1.0, "1"):
        with pytest.raises(InvalidValue, match="expects an Integer"):
            check_value(resource, bad)


def test_range_violation_names_resource_and_reason() -> None:
    resource = res(T.INTEGER, "0..100", rid=9, name="Battery Level")
    assert check_value(resource, 100) == 100
    with pytest.raises(InvalidValue) as info:
        check_value(resource, 101)
    message = str(info.value)
    assert "resource 9 (Battery Level)" in message
    assert "101 is outside 0..100" in message


def test_enumeration_violation() -> None:
    resource = res(T.INTEGER, "0..3, 99")
    assert check_value(resource, 99) == 99
    with pytest.raises(InvalidValue, match=r"50 is outside one of 0..3, 99"):
        check_value(resource, 50)


def test_invalid_value_is_answered_as_bad_request() -> None:
    with pytest.raises(InvalidValue) as info:
        check_value(res(T.INTEGER), "x")
    assert info.value.code_text == "4.00"


# ------------------------------------------------------------------ time


def test_time_is_integer_seconds() -> None:
    resource = res(T.TIME)
    assert check_value(resource, 946684800) == 946684800
    assert coerce_value(resource, "946684800") == 946684800
    with pytest.raises(InvalidValue, match="Time"):
        check_value(resource, 1.5)
    with pytest.raises(InvalidValue, match="is not a Time"):
        coerce_value(resource, "2000-01-01")


# ------------------------------------------------------------------ float, boolean


def test_float_accepts_ints_and_checks_range() -> None:
    resource = res(T.FLOAT, "-1..1")
    assert check_value(resource, 1) == 1.0
    assert isinstance(check_value(resource, 1), float)
    assert coerce_value(resource, "-0.5") == -0.5
    with pytest.raises(InvalidValue, match=r"1.5 is outside -1..1"):
        check_value(resource, 1.5)
    with pytest.raises(InvalidValue, match="expects a Float"):
        check_value(resource, True)
    with pytest.raises(InvalidValue, match="is not a Float"):
        coerce_value(resource, "warm")


@pytest.mark.parametrize(
    ("text", "expected"), [("true", True), ("False", False), ("1", True), ("0", False)]
)
def test_boolean_text_forms(text: str, expected: bool) -> None:
    assert coerce_value(res(T.BOOLEAN), text) is expected


def test_boolean_refuses_numbers_and_other_text() -> None:
    with pytest.raises(InvalidValue, match="expects a Boolean"):
        check_value(res(T.BOOLEAN), 1)
    with pytest.raises(InvalidValue, match="is not a Boolean"):
        coerce_value(res(T.BOOLEAN), "yes")


# ------------------------------------------------------------------ objlnk


def test_objlnk() -> None:
    resource = res(T.OBJLNK)
    assert coerce_value(resource, "3:0") == ObjectLink(3, 0)
    assert coerce_value(resource, [3303, 12]) == ObjectLink(3303, 12)
    assert check_value(resource, (65535, 65535)) == ObjectLink(65535, 65535)
    assert str(ObjectLink(3, 0)) == "3:0"
    for bad_text in ("3", "3:0:1", "a:b", "3:65536", "-1:0"):
        with pytest.raises(InvalidValue, match="resource 7 \\(Thing\\)"):
            coerce_value(resource, bad_text)
    with pytest.raises(InvalidValue, match="object link like 3:0"):
        check_value(resource, (3, 70000))
    with pytest.raises(InvalidValue, match="object link like 3:0"):
        check_value(resource, "3:0")


# ------------------------------------------------------------------ opaque


def test_opaque_is_bytes() -> None:
    resource = res(T.OPAQUE)
    assert check_value(resource, b"\x01\x02") == b"\x01\x02"
    assert check_value(resource, bytearray(b"ab")) == b"ab"
    assert type(check_value(resource, bytearray(b"ab"))) is bytes
    with pytest.raises(InvalidValue, match="expects Opaque"):
        check_value(resource, "0102")


def test_opaque_text_forms() -> None:
    resource = res(T.OPAQUE)
    assert coerce_value(resource, "hex:0123456789abcdef") == bytes.fromhex("0123456789ABCDEF")
    assert coerce_value(resource, "base64:AQID") == b"\x01\x02\x03"
    assert coerce_value(resource, "plain") == b"plain"
    with pytest.raises(InvalidValue, match="not valid hex"):
        coerce_value(resource, "hex:zz")
    with pytest.raises(InvalidValue, match="not valid base64"):
        coerce_value(resource, "base64:@@@")


@given(st.binary(max_size=64))
def test_opaque_hex_and_base64_round_trip(data: bytes) -> None:
    assert opaque_from_text("hex:" + data.hex()) == data
    assert opaque_from_text("base64:" + base64.b64encode(data).decode()) == data


def test_opaque_length_range() -> None:
    resource = res(T.OPAQUE, "6 bytes")
    assert check_value(resource, b"123456") == b"123456"
    with pytest.raises(InvalidValue, match=r"5 bytes is outside length 6\.\.6"):
        check_value(resource, b"12345")


# ------------------------------------------------------------------ strings


def test_string_length_counts_utf8_bytes() -> None:
    resource = res(T.STRING, "1..4 bytes")
    assert check_value(resource, "abcd") == "abcd"
    with pytest.raises(InvalidValue, match=r"6 bytes is outside length 1\.\.4"):
        check_value(resource, "ééé")
    with pytest.raises(InvalidValue, match="0 bytes"):
        check_value(resource, "")


def test_string_enumeration() -> None:
    resource = res(T.STRING, "ON;OFF")
    assert check_value(resource, "OFF") == "OFF"
    with pytest.raises(InvalidValue, match="'DIM' is not one of ON, OFF"):
        check_value(resource, "DIM")


def test_strings_are_not_converted() -> None:
    with pytest.raises(InvalidValue, match="expects a String"):
        coerce_value(res(T.STRING), 42)
    assert coerce_value(res(T.CORELNK), "</3442>") == "</3442>"


def test_executable_has_no_value() -> None:
    executable = dataclasses.replace(res(T.NONE), operations=Operations.E)
    with pytest.raises(InvalidValue, match=r"resource 7 \(Thing\) is executable and has no value"):
        check_value(executable, 1)
    with pytest.raises(InvalidValue, match="is executable and has no value"):
        default_value(executable)


def test_a_readable_resource_without_a_type_says_so_not_executable() -> None:
    # the OMA registry's /10482/x/5 "Read data": Operations R, an empty <Type>
    readable = dataclasses.replace(res(T.NONE), operations=Operations.R)
    message = r"resource 7 \(Thing\) has no Type \(operations R\): no value can be made for it"
    with pytest.raises(InvalidValue, match=message):
        default_value(readable)
    with pytest.raises(InvalidValue, match=message):
        check_value(readable, 1)


# ------------------------------------------------------------------ defaults


@pytest.mark.parametrize(
    ("type_", "range_text"),
    [
        (T.INTEGER, "10..20"),
        (T.INTEGER, ""),
        (T.UNSIGNED_INTEGER, ""),
        (T.FLOAT, "-1..1"),
        (T.TIME, ""),
        (T.BOOLEAN, ""),
        (T.OPAQUE, "6 bytes"),
        (T.OBJLNK, ""),
        (T.STRING, "ON;OFF"),
        (T.STRING, "4..63"),
        (T.CORELNK, ""),
    ],
)
def test_default_value_passes_its_own_check(type_: T, range_text: str) -> None:
    resource = res(type_, range_text)
    value = default_value(resource)
    assert check_value(resource, value) == value
