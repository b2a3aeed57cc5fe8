"""The positioned YAML loader: marks, duplicate keys, merges, aliases, syntax errors."""

from __future__ import annotations

import pytest

from fleet.scenario.problems import Mark, ScenarioErrors
from fleet.scenario.yamlsource import load_document

TEXT = """\
version: 1
groups:
  - name: a
    count: 3
    objects: {3303: [0, 1]}
"""


def test_marks_of_keys_and_values() -> None:
    document = load_document(TEXT, "f.yaml")
    assert document.errors == []
    assert document.data == {
        "version": 1,
        "groups": [{"name": "a", "count": 3, "objects": {3303: [0, 1]}}],
    }
    source = document.source
    assert source.key(("groups",)) == Mark("f.yaml", 2, 1)
    assert source.value(("groups", 0)) == Mark("f.yaml", 3, 5)
    assert source.key(("groups", 0, "count")) == Mark("f.yaml", 4, 5)
    assert source.value(("groups", 0, "count")) == Mark("f.yaml", 4, 12)
    assert source.key(("groups", 0, "objects", 3303)) == Mark("f.yaml", 5, 15)
    assert source.value(("groups", 0, "objects", 3303, 1)) == Mark("f.yaml", 5, 25)
    # a path with no mark of its own answers its nearest enclosing value
    assert source.value(("groups", 0, "count", "deeper")) == Mark("f.yaml", 4, 12)


def test_duplicate_keys_are_reported_and_the_first_kept() -> None:
    document = load_document("a: 1\nb: {x: 1, x: 2}\na: 3\n", "f.yaml")
    assert [e.located() for e in document.errors] == [
        "f.yaml:2:11: duplicate key 'x' (first given at line 2, column 5)",
        "f.yaml:3:1: duplicate key 'a' (first given at line 1, column 1)",
    ]
    assert document.data == {"a": 1, "b": {"x": 1}}


def test_equal_keys_written_differently_are_duplicates() -> None:
    document = load_document("1: a\n0x1: b\n", "f.yaml")
    assert [e.message for e in document.errors] == [
        "duplicate key 1 (first given at line 1, column 1)"
    ]


def test_merge_keys_may_be_overridden_but_not_repeated() -> None:
    text = """\
base: &base {count: 1, lifetime: 60}
group:
  <<: *base
  lifetime: 120
  name: g
  name: h
"""
    document = load_document(text, "f.yaml")
    assert document.data == {
        "base": {"count": 1, "lifetime": 60},
        "group": {"count": 1, "lifetime": 120, "name": "g"},
    }
    assert [e.located() for e in document.errors] == [
        "f.yaml:6:3: duplicate key 'name' (first given at line 5, column 3)"
    ]
    # merged content points at where it was written
    assert document.source.value(("group", "count")) == Mark("f.yaml", 1, 21)


def test_merge_of_several_mappings_earlier_wins() -> None:
    text = "a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc:\n  <<: [*a, *b]\n"
    assert load_document(text).data == {"a": {"x": 1}, "b": {"x": 2, "y": 2}, "c": {"x": 1, "y": 2}}


def test_merge_of_a_scalar_is_an_error() -> None:
    document = load_document("a:\n  <<: 3\n", "f.yaml")
    assert [e.located() for e in document.errors] == [
        "f.yaml:2:7: a merge key (<<) takes a mapping or a list of mappings"
    ]


def test_recursive_alias() -> None:
    document = load_document("a: &x [1, *x]\n", "f.yaml")
    assert [e.located() for e in document.errors] == [
        "f.yaml:1:4: an alias refers to the node that contains it"
    ]


def test_alias_bomb_is_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in range(1, 8):
        previous = f"*a{level - 1}"
        lines.append(f"a{level}: &a{level} [{', '.join([previous] * 10)}]")
    with pytest.raises(ScenarioErrors) as caught:
        load_document("\n".join(lines) + "\n", "f.yaml")
    assert caught.value.lines() == ["f.yaml:1:16: aliases copy more than 100000 values (the limit)"]


def test_a_key_must_be_a_scalar() -> None:
    document = load_document("? [1, 2]\n: x\n", "f.yaml")
    assert [e.located() for e in document.errors] == [
        "f.yaml:1:3: a key must be a single value, not a list or a mapping"
    ]


def test_unknown_tag() -> None:
    document = load_document("a: !python/object 3\n", "f.yaml")
    assert len(document.errors) == 1
    assert document.errors[0].located().startswith("f.yaml:1:4: cannot read this value: ")


def test_syntax_error_position() -> None:
    with pytest.raises(ScenarioErrors) as caught:
        load_document("a: 1\nb: [1, 2\nc: 3\n", "f.yaml")
    (line,) = caught.value.lines()
    assert line.startswith("f.yaml:3:2: invalid YAML: while parsing a flow sequence: ")


def test_several_documents_are_refused() -> None:
    with pytest.raises(ScenarioErrors) as caught:
        load_document("a: 1\n---\nb: 2\n", "f.yaml")
    (line,) = caught.value.lines()
    assert line.startswith("f.yaml:2:1: invalid YAML: ")


def test_values_given_on_the_command_line_are_marked_by_their_origin() -> None:
    root = Mark(item="--set seed=x")
    document = load_document("{a: 1, a: 2}", root=root)
    assert [e.located() for e in document.errors] == [
        "--set seed=x: duplicate key 'a' (first given at line 1, column 2)"
    ]
    assert document.source.value(("a",)) == root


def test_empty_document() -> None:
    assert load_document("# nothing\n").data is None
