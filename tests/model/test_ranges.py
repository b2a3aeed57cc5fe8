"""Parsing ``<RangeEnumeration>`` texts, most of them taken from real registry files."""

from __future__ import annotations

import pytest

from fleet.model.ranges import Interval, Range, RangeKind, parse_range
from fleet.model.types import ResourceType as T

N = RangeKind.NUMERIC
E = RangeKind.ENUMERATION
L = RangeKind.LENGTH
X = RangeKind.TEXT

# (type, raw text as found in the registry, kind, (low, high) or None)
REAL_RANGES = [
    (T.INTEGER, "0..100", N, (0, 100)),
    (T.INTEGER, "-128..127", N, (-128, 127)),
    (T.INTEGER, "-140..-44", N, (-140, -44)),
    (T.INTEGER, "0-999", N, (0, 999)),
    (T.INTEGER, "1...63", N, (1, 63)),
    (T.INTEGER, "0..9223372036854775807", N, (0, 2**63 - 1)),
    (T.INTEGER, "255", N, (255, 255)),
    (T.INTEGER, "0,1,2", E, (0, 2)),
    (T.INTEGER, "0..3, 99", E, (0, 99)),
    (T.INTEGER, "0..247, 255", E, (0, 255)),
    (T.INTEGER, "5, 10, 15, 20", E, (5, 20)),
    (
        T.INTEGER,
        "0: disabled\n\t\t\t\t1: normal\n\t\t\t\t2: remote\n\t\t\t\t3: local\n\t255",
        E,
        (0, 255),
    ),
    (T.UNSIGNED_INTEGER, "0: RELEASED\n\t\t\t\t1: PRESSED\n\t\t\t\t2: FAULT", E, (0, 2)),
    (T.UNSIGNED_INTEGER, "0..18446744073709551615", N, (0, 2**64 - 1)),
    (T.UNSIGNED_INTEGER, "300..60000", N, (300, 60000)),
    (T.FLOAT, "-100.0..100.0", N, (-100.0, 100.0)),
    (T.FLOAT, "0.000001..1.0", N, (0.000001, 1.0)),
    (T.FLOAT, "0; 3.8..20.5", E, (0, 20.5)),
    (T.STRING, "0..255 bytes", L, (0, 255)),
    (T.STRING, "0-255 bytes", L, (0, 255)),
    (T.STRING, "1..64 Bytes", L, (1, 64)),
    (T.STRING, "12 Bytes", L, (12, 12)),
    (T.STRING, "10 or 26 Bytes", L, (10, 26)),
    (T.STRING, "10,26", L, (10, 26)),
    (T.STRING, "64", L, (0, 64)),
    (T.OPAQUE, "16,32,48", L, (16, 48)),
    (T.OPAQUE, "6 bytes", L, (6, 6)),
    (T.OPAQUE, "0..65535", L, (0, 65535)),
    # free text constrains nothing but is kept
    (T.STRING, "The possible values are those listed in the LwM2M Core Specification", X, None),
    (T.INTEGER, "-30..-120", X, None),
    (T.INTEGER, "<7 to >12.5", X, None),
    (T.INTEGER, "[1:4]", X, None),
    (T.INTEGER, "16-bit", X, None),
    (T.INTEGER, "2 Instances", X, None),
    (T.OPAQUE, "16-32-48 bytes", X, None),
    (T.BOOLEAN, "0..65535", X, None),
    (T.FLOAT, "ON;OFF", X, None),
]


@pytest.mark.parametrize(("type_", "raw", "kind", "bounds"), REAL_RANGES)
def test_real_registry_ranges(
    type_: T, raw: str, kind: RangeKind, bounds: tuple[float, float] | None
) -> None:
    parsed = parse_range(raw, type_)
    assert parsed.raw == raw.strip()
    assert parsed.kind is kind
    if bounds is None:
        assert parsed.intervals == ()
    else:
        assert (parsed.low, parsed.high) == bounds


def test_empty_range_is_none() -> None:
    for raw in ("", None, "  \n  "):
        parsed = parse_range(raw, T.INTEGER)
        assert parsed == Range()
        assert parsed.kind is RangeKind.NONE
        assert parsed.allows_number(-(2**70))


def test_numeric_bounds_are_inclusive() -> None:
    parsed = parse_range("0..100", T.INTEGER)
    assert parsed.allows_number(0)
    assert parsed.allows_number(100)
    assert not parsed.allows_number(-1)
    assert not parsed.allows_number(101)
    assert parsed.describe() == "0..100"


def test_float_range_with_integer_bounds_allows_fractions() -> None:
    parsed = parse_range("0..1", T.FLOAT)
    assert parsed.allows_number(0.5)
    assert not parsed.allows_number(1.0001)


def test_numeric_enumeration_allows_members_only() -> None:
    parsed = parse_range("0..3, 99", T.INTEGER)
    assert [parsed.allows_number(v) for v in (0, 3, 4, 98, 99, 100)] == [
        True,
        True,
        False,
        False,
        True,
        False,
    ]
    assert parsed.describe() == "one of 0..3, 99"


def test_labelled_enumeration_allows_listed_numbers() -> None:
    parsed = parse_range("0: CONFIGURED_ON\n\t1: FULL_ON\n\t2: RECALL", T.UNSIGNED_INTEGER)
    assert parsed.intervals == (Interval(0, 0), Interval(1, 1), Interval(2, 2))
    assert parsed.allows_number(2)
    assert not parsed.allows_number(3)


def test_single_labelled_line_is_text() -> None:
    assert parse_range("1: only one", T.INTEGER).kind is RangeKind.TEXT


def test_text_enumeration_for_strings() -> None:
    parsed = parse_range("ON;OFF", T.STRING)
    assert parsed.kind is RangeKind.ENUMERATION
    assert parsed.values == ("ON", "OFF")
    assert parsed.allows_text("ON")
    assert not parsed.allows_text("on")
    assert parsed.describe() == "one of ON, OFF"


def test_length_bounds() -> None:
    parsed = parse_range("1..32 Bytes", T.STRING)
    assert parsed.allows_length(1)
    assert parsed.allows_length(32)
    assert not parsed.allows_length(0)
    assert not parsed.allows_length(33)
    assert parsed.describe() == "length 1..32"
    # a length range says nothing about numbers or texts
    assert parsed.allows_text("anything")


def test_exact_lengths() -> None:
    parsed = parse_range("10 or 26 Bytes", T.STRING)
    assert [parsed.allows_length(n) for n in (9, 10, 11, 26, 27)] == [
        False,
        True,
        False,
        True,
        False,
    ]


def test_text_range_constrains_nothing() -> None:
    parsed = parse_range("The possible values of Resource are listed in 5.3.1.1", T.STRING)
    assert parsed.allows_text("whatever")
    assert parsed.allows_length(10_000)
    assert parsed.describe() == parsed.raw


def test_types_without_ranges_keep_the_text() -> None:
    for type_ in (T.BOOLEAN, T.OBJLNK, T.CORELNK, T.NONE):
        parsed = parse_range("0..1", type_)
        assert parsed.kind is RangeKind.TEXT
        assert parsed.raw == "0..1"
