"""Endpoint patterns and the search for two devices with the same name."""

from __future__ import annotations

import pytest

from fleet.scenario.endpoints import (
    SAMPLE,
    Clash,
    PatternError,
    Range,
    check_pattern,
    find_clashes,
    too_long,
)


@pytest.mark.parametrize(
    "pattern",
    ["sim-{index:06d}", "urn:imei:35193454{index:07d}", "dev-{index}", "{{literal}}-{index}"],
)
def test_good_patterns(pattern: str) -> None:
    check_pattern(pattern, 1000)


def test_a_fixed_name_is_fine_for_one_device() -> None:
    check_pattern("the-one", 1)


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("sim-{}", "has an empty field {}: write {index}"),
        ("sim-{0}", "uses {0}; the only field is {index}"),
        ("sim-{index.real}", "uses {index.real}"),
        ("sim-{index!r}", "{index!r} is not allowed"),
        ("sim-{index:{width}}", "nested fields are not allowed"),
        ("sim-{index:q}", "cannot format a device index"),
        ("sim}", "is not a valid pattern"),
        ("sim", "every device would be called 'sim'"),
        ("a b{index}", "has spaces or control characters"),
    ],
)
def test_bad_patterns(pattern: str, message: str) -> None:
    with pytest.raises(PatternError) as caught:
        check_pattern(pattern, 10)
    assert message in str(caught.value)


def test_clashes_across_and_within_groups() -> None:
    clashes = find_clashes(
        [
            Range(0, "dev-{index}", 0, 20),
            Range(1, "dev-{index:x}", 20, 5),  # 20 -> dev-14
            Range(2, "e{index:.0e}", 25, 10),  # 26 and 27 -> e3e+01
        ]
    )
    assert clashes == [Clash(1, 20, "dev-14", 0, 14), Clash(2, 27, "e3e+01", 2, 26)]


def test_no_clash_for_distinct_patterns() -> None:
    assert find_clashes([Range(0, "a-{index}", 0, 500), Range(1, "b-{index}", 500, 500)]) == []


def test_big_fleets_are_checked_where_groups_meet() -> None:
    # 300,000 devices: beyond the full check; the overlap sits at the edges of each group
    ranges = [
        Range(0, "d{index}", 0, 200_000),
        Range(1, "d{index:d}x", 200_000, 50_000),
        Range(2, "d{index}", 250_000, 50_000),
    ]
    assert find_clashes(ranges) == []
    shifted = [Range(0, "d{index}", 0, 200_000), Range(1, "d1{index}", 200_000, 100_000)]
    # group 1's first names are d1200000.. which group 0 (d0..d199999) never has: no clash
    assert find_clashes(shifted) == []
    clash = [Range(0, "d{index}", 0, 200_000), Range(1, "d{index:07d}", 200_000, 100_000)]
    assert find_clashes(clash) == []  # zero padding makes them different names
    sampled = [Range(0, "n{index}", 0, 150_000), Range(1, "n{index}", 0, 2 * SAMPLE + 5)]
    assert find_clashes(sampled)[0] == Clash(1, 0, "n0", 0, 0)


def test_too_long() -> None:
    assert too_long("x" * 253 + "{index}", 0, 10) is None
    assert too_long("x" * 253 + "{index}", 0, 1000) == "x" * 253 + "999"
