"""Execute argument syntax: valid payloads, every kind of mistake, and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleet.device.arguments import ARG_CHARS, format_arguments, parse_arguments
from fleet.errors import BadRequest


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ("", {}),
        (b"", {}),
        (None, {}),
        ("0", {0: None}),
        ("9", {9: None}),
        ("0='abc'", {0: "abc"}),
        ("0=''", {0: ""}),
        ("3='stringValue',4", {3: "stringValue", 4: None}),
        ("0='110',1='2000'", {0: "110", 1: "2000"}),
        ("5,2,7", {5: None, 2: None, 7: None}),
        (b"1='http://example.com/fw?x=1&y=[2]'", {1: "http://example.com/fw?x=1&y=[2]"}),
        ("2='!#$%&()*+,-./:;<=>?@[]^_`{|}~'", {2: "!#$%&()*+,-./:;<=>?@[]^_`{|}~"}),
    ],
)
def test_valid_arguments_parse(
    payload: str | bytes | None, expected: dict[int, str | None]
) -> None:
    assert parse_arguments(payload) == expected


@pytest.mark.parametrize(
    ("payload", "position", "reason"),
    [
        ("a", 0, "digit"),
        ("10", 1, "','"),
        ("0,", 2, "digit"),
        (",0", 0, "digit"),
        ("0=abc", 2, "open"),
        ("0='abc", 2, "not closed"),
        ("0='a b'", 4, "not allowed"),
        ("0='a\"b'", 4, "not allowed"),
        ("0='a\\b'", 4, "not allowed"),
        ("0='abc'1", 7, "','"),
        ("0, 1", 2, "digit"),
        ("0,0", 2, "twice"),
        ("0=", 2, "open"),
    ],
)
def test_malformed_arguments_are_bad_requests(payload: str, position: int, reason: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_arguments(payload)
    assert caught.value.code_text == "4.00"
    message = str(caught.value)
    assert f"at position {position}" in message
    assert reason in message
    assert repr(payload) in message


def test_non_ascii_bytes_are_bad_requests() -> None:
    with pytest.raises(BadRequest, match="ASCII"):
        parse_arguments("0='é'".encode())


def test_format_writes_the_specification_syntax() -> None:
    assert format_arguments({3: "stringValue", 4: None}) == "3='stringValue',4"
    assert format_arguments({}) == ""


@pytest.mark.parametrize("bad", [{10: None}, {0: "a b"}, {1: "it's"}])
def test_format_refuses_what_cannot_be_sent(bad: dict[int, str | None]) -> None:
    with pytest.raises(ValueError):
        format_arguments(bad)


_values = st.none() | st.text(alphabet=sorted(ARG_CHARS), max_size=12)


@given(st.dictionaries(st.integers(0, 9), _values, max_size=10))
def test_format_then_parse_round_trips(arguments: dict[int, str | None]) -> None:
    assert parse_arguments(format_arguments(arguments)) == arguments
