"""ResourceType and Operations as DDF XML spells them."""

from __future__ import annotations

import pytest

from fleet.model.types import Operations, ResourceType


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("String", ResourceType.STRING),
        ("Integer", ResourceType.INTEGER),
        ("Unsigned Integer", ResourceType.UNSIGNED_INTEGER),
        ("Float", ResourceType.FLOAT),
        ("Boolean", ResourceType.BOOLEAN),
        ("Opaque", ResourceType.OPAQUE),
        ("Time", ResourceType.TIME),
        ("Objlnk", ResourceType.OBJLNK),
        ("Corelnk", ResourceType.CORELNK),
        ("", ResourceType.NONE),
        (None, ResourceType.NONE),
        ("  \n ", ResourceType.NONE),
        ("unsigned integer", ResourceType.UNSIGNED_INTEGER),
        ("UnsignedInteger", ResourceType.UNSIGNED_INTEGER),
        (" string ", ResourceType.STRING),
        ("OBJLNK", ResourceType.OBJLNK),
    ],
)
def test_type_from_ddf(text: str | None, expected: ResourceType) -> None:
    assert ResourceType.from_ddf(text) is expected


@pytest.mark.parametrize("text", ["Strng", "int", "Unsigned", "Double", "Objlink", "none!"])
def test_unknown_type_is_a_key_error_with_the_text(text: str) -> None:
    with pytest.raises(KeyError) as info:
        ResourceType.from_ddf(text)
    assert info.value.args == (text,)


def test_numeric_types() -> None:
    numeric = {t for t in ResourceType if t.is_numeric}
    assert numeric == {
        ResourceType.INTEGER,
        ResourceType.UNSIGNED_INTEGER,
        ResourceType.FLOAT,
        ResourceType.TIME,
    }


@pytest.mark.parametrize(
    ("text", "expected", "readable", "writable", "executable"),
    [
        ("R", Operations.R, True, False, False),
        ("W", Operations.W, False, True, False),
        ("RW", Operations.RW, True, True, False),
        ("E", Operations.E, False, False, True),
        ("", Operations.NONE, False, False, False),
        (None, Operations.NONE, False, False, False),
        (" rw ", Operations.RW, True, True, False),
        ("WR", Operations.RW, True, True, False),
    ],
)
def test_operations_from_ddf(
    text: str | None, expected: Operations, readable: bool, writable: bool, executable: bool
) -> None:
    ops = Operations.from_ddf(text)
    assert ops == expected
    assert (ops.readable, ops.writable, ops.executable) == (readable, writable, executable)


@pytest.mark.parametrize("text", ["RWE", "X", "Read", "R W"])
def test_unknown_operations_are_a_key_error(text: str) -> None:
    with pytest.raises(KeyError):
        Operations.from_ddf(text)


@pytest.mark.parametrize("text", ["R", "W", "RW", "E", ""])
def test_operations_ddf_spelling_round_trips(text: str) -> None:
    assert Operations.from_ddf(text).ddf() == text


def test_rw_is_r_or_w() -> None:
    assert Operations.R | Operations.W == Operations.RW
    assert Operations.RW & Operations.R
    assert not Operations.RW & Operations.E
