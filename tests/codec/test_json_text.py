"""Every JSON the project writes is valid JSON, every JSON it reads is read strictly
(fleet/codec/json_text.py), and no module writes or reads JSON another way (issue 21)."""

from __future__ import annotations

import ast
import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleet.codec import json_text
from fleet.metrics import Summary

PACKAGE = Path(__file__).resolve().parents[2] / "fleet"


def _strict(text: str) -> object:
    def refuse(name: str) -> object:
        raise AssertionError(f"{name} in {text!r}")

    return json.loads(text, parse_constant=refuse)


def test_non_finite_floats_are_written_as_their_text() -> None:
    data = {"a": math.nan, "b": [math.inf, -math.inf, 1.5], "c": ("x", math.nan)}
    text = json_text.dumps(data, separators=(",", ":"))
    assert text == '{"a":"NaN","b":["Infinity","-Infinity",1.5],"c":["x","NaN"]}'
    assert _strict(text) == {"a": "NaN", "b": ["Infinity", "-Infinity", 1.5], "c": ["x", "NaN"]}


JSONABLE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=20,
)


@given(JSONABLE)
def test_dumps_is_always_strict_json_and_json_dumps_when_it_can_be(data: object) -> None:
    text = json_text.dumps(data, indent=1)
    _strict(text)
    try:
        plain = json.dumps(data, indent=1, allow_nan=False)
    except ValueError:
        return
    assert text == plain


@pytest.mark.parametrize(
    ("text", "says", "column"),
    [
        ('{"v": NaN}', "NaN is not a JSON number", 7),
        ("[1,\n -Infinity]", "-Infinity is not a JSON number", 2),
        ('{"v": Infinity}', "Infinity is not a JSON number", 7),
        ('{"v": 1e400}', "the number 1e400 is too large for a float", 7),
    ],
)
def test_loads_refuses_what_is_not_json_where_it_stands(text: str, says: str, column: int) -> None:
    with pytest.raises(json.JSONDecodeError) as caught:
        json_text.loads(text)
    assert says in str(caught.value) and caught.value.colno == column
    assert json_text.loads('{"v": 1.5e300}') == {"v": 1.5e300}


def test_a_summary_with_nan_in_it_is_refused_as_json_not_read_as_a_number() -> None:
    text = Summary().dumps()
    assert Summary.loads(text).to_json() == Summary().to_json()
    with pytest.raises(ValueError, match="NaN is not a JSON number"):
        Summary.loads(text.replace('"duration": 0.0', '"duration": NaN'))


def _is_false(keyword: ast.keyword, name: str) -> bool:
    value = keyword.value
    return keyword.arg == name and isinstance(value, ast.Constant) and value.value is False


def _json_calls(module: Path) -> list[tuple[int, str, bool]]:
    """(line, json.<name>, passes allow_nan=False) of each call of the json module's
    dump/dumps/load/loads in ``module``."""
    tree = ast.parse(module.read_text(), filename=str(module))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "json"
            and node.func.attr in {"dump", "dumps", "load", "loads"}
        ):
            strict = any(_is_false(k, "allow_nan") for k in node.keywords)
            found.append((node.lineno, node.func.attr, strict))
    return found


def test_no_module_writes_or_reads_json_but_through_json_text() -> None:
    """A new ``json.dumps`` somewhere would print NaN again: only json_text.py calls the json
    module (and an encoder that must refuse NaN, with ``allow_nan=False``)."""
    offenders = []
    for module in sorted(PACKAGE.rglob("*.py")):
        if module.name == "json_text.py":
            continue
        for line, name, strict in _json_calls(module):
            if not (name == "dumps" and strict):
                offenders.append(f"{module.relative_to(PACKAGE.parent)}:{line}: json.{name}")
    assert offenders == []
