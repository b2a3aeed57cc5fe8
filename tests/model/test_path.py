"""Path: parse, format, level, parent, prefix tests, ordering, id bounds, bad texts."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleet.errors import PathError
from fleet.model.path import MAX_ID, ROOT, Level, Path

ids = st.integers(min_value=0, max_value=MAX_ID)
paths = st.lists(ids, max_size=4).map(lambda xs: Path(*xs))


@pytest.mark.parametrize(
    ("text", "expected", "level"),
    [
        ("/", (), Level.ROOT),
        ("/3", (3,), Level.OBJECT),
        ("/3/0", (3, 0), Level.INSTANCE),
        ("/3/0/11", (3, 0, 11), Level.RESOURCE),
        ("/3/0/11/0", (3, 0, 11, 0), Level.RESOURCE_INSTANCE),
        ("3/0/1", (3, 0, 1), Level.RESOURCE),
        ("/65535/65535/65535/65535", (65535,) * 4, Level.RESOURCE_INSTANCE),
        (" /3303/0 ", (3303, 0), Level.INSTANCE),
    ],
)
def test_parse_gives_ids_and_level(text: str, expected: tuple[int, ...], level: Level) -> None:
    path = Path.parse(text)
    assert tuple(path) == expected
    assert path.level is level


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty path"),
        ("/3/x", "'x' is not a number"),
        ("/3/0/", "'' is not a number"),
        ("//3", "'' is not a number"),
        ("/3/-1", "'-1' is not a number"),
        ("/65536", "65536 is above 65535"),
        ("/1/2/3/4/5", "at most 4 levels"),
        ("/03", "leading zero"),
        ("/3/٣", "is not a number"),  # an Arabic-Indic digit is not an LwM2M id
        ("/3 /0", "is not a number"),
    ],
)
def test_bad_paths_name_the_text(text: str, fragment: str) -> None:
    with pytest.raises(PathError) as info:
        Path.parse(text)
    message = str(info.value)
    assert fragment in message
    if text.strip():
        assert repr(text) in message


def test_path_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        Path.parse("/a")


@pytest.mark.parametrize("bad", [-1, MAX_ID + 1, True, 1.0, "3"])
def test_constructor_refuses_bad_ids(bad: object) -> None:
    with pytest.raises(PathError, match=r"0\.\.65535"):
        Path(3, bad)  # type: ignore[arg-type]


def test_constructor_refuses_five_levels() -> None:
    with pytest.raises(PathError, match="at most 4"):
        Path(1, 2, 3, 4, 5)


def test_format() -> None:
    assert str(ROOT) == "/"
    assert str(Path(3, 0, 11, 0)) == "/3/0/11/0"
    assert Path(3, 0, 1).relative() == "3/0/1"
    assert repr(Path(3, 0)) == "Path('/3/0')"


def test_parent_and_child() -> None:
    path = Path(3, 0, 11, 0)
    assert path.parent == Path(3, 0, 11)
    assert path.parent.parent.parent.parent == ROOT
    assert Path(3).child(0).child(11) == Path(3, 0, 11)
    with pytest.raises(PathError, match="root"):
        _ = ROOT.parent


def test_accessors() -> None:
    path = Path(3303, 1, 5700)
    assert (path.object_id, path.instance_id, path.resource_id) == (3303, 1, 5700)
    assert path.resource_instance_id is None
    assert ROOT.object_id is None


def test_prefix_tests() -> None:
    assert ROOT.contains(Path(3, 0))
    assert Path(3).contains(Path(3, 0, 1))
    assert Path(3, 0).contains(Path(3, 0))
    assert not Path(3, 0).contains(Path(3))
    assert not Path(3, 0).contains(Path(3, 1, 0))
    assert not Path(3).contains(Path(33))
    assert Path(3).is_prefix_of(Path(3, 7))


def test_ordering_is_numeric_not_textual() -> None:
    texts = ["/3/1", "/3/0/10", "/3", "/", "/3/0/2", "/10", "/3/0/2/1"]
    ordered = sorted(Path.parse(t) for t in texts)
    assert [str(p) for p in ordered] == ["/", "/3", "/3/0/2", "/3/0/2/1", "/3/0/10", "/3/1", "/10"]


def test_paths_are_hashable_values() -> None:
    assert {Path.parse("/3/0"): 1}[Path(3, 0)] == 1
    assert Path(3, 0) != Path(3, 0, 0)


@given(paths)
def test_format_parse_round_trip(path: Path) -> None:
    text = str(path)
    assert Path.parse(text) == path
    assert Path.parse(text).level == len(path)
    if path:
        assert Path.parse(path.relative()) == path


@given(paths, paths)
def test_contains_agrees_with_tuple_prefix(a: Path, b: Path) -> None:
    assert a.contains(b) == (tuple(b[: len(a)]) == tuple(a))
    if a.contains(b) and a != b:
        assert a < b


@given(st.lists(ids, min_size=1, max_size=4))
def test_parent_drops_last_id(id_list: list[int]) -> None:
    path = Path(*id_list)
    assert path.parent.child(id_list[-1]) == path
    assert path.parent.contains(path)
