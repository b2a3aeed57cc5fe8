"""parse_attributes: Write-Attributes / Observe queries into set and remove operations."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleet.errors import BadRequest
from fleet.model.path import Level
from fleet.model.types import ResourceType
from fleet.observe import AttributeUpdate, NotificationAttributes, parse_attributes

A = NotificationAttributes


def update(removed: Iterable[str] = (), **values: float | bool) -> AttributeUpdate:
    return AttributeUpdate(A(**values), frozenset(removed))  # type: ignore[arg-type]


Query = Mapping[str, str | None] | Iterable[str]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param(
            ["pmin=10", "pmax=60", "gt=25.5", "stp=1", "lt"],
            update(["lt"], pmin=10, pmax=60, gt=25.5, st=1),
            id="list-of-items-with-removal",
        ),
        pytest.param("pmin=10&pmax=60", update(pmin=10, pmax=60), id="one-string"),
        pytest.param({"pmin": "10", "pmax": None}, update(["pmax"], pmin=10), id="mapping"),
        pytest.param({"gt": ""}, update(["gt"]), id="mapping-empty-value-removes"),
        pytest.param(["pmin"], update(["pmin"]), id="bare-name-removes"),
        pytest.param(["pmin="], update(["pmin"]), id="empty-value-removes"),
        pytest.param(["st=2"], update(st=2), id="st"),
        pytest.param(["stp=2"], update(st=2), id="stp-alias"),
        pytest.param(["step=0.5"], update(st=0.5), id="step-alias"),
        pytest.param(["stp"], update(["st"]), id="alias-removal"),
        pytest.param(["gt=-60", "lt=-80.5"], update(gt=-60, lt=-80.5), id="negative-thresholds"),
        pytest.param(["gt=-0"], update(gt=0), id="minus-zero"),
        pytest.param(["pmin=0.5", "pmax=0"], update(pmin=0.5, pmax=0), id="fraction-and-zero"),
        pytest.param(["epmin=1", "epmax=30"], update(epmin=1, epmax=30), id="evaluation-periods"),
        pytest.param(["edge=1", "con=0"], update(edge=True, con=False), id="flags"),
        pytest.param(["pmin=007"], update(pmin=7), id="leading-zeros"),
        pytest.param(["", "pmin=1", ""], update(pmin=1), id="empty-items-skipped"),
        pytest.param([], update(), id="nothing"),
        pytest.param("", update(), id="empty-string"),
    ],
)
def test_parse(query: Query, expected: AttributeUpdate) -> None:
    assert parse_attributes(query) == expected


def test_integers_stay_integers_and_fractions_floats() -> None:
    result = parse_attributes(["pmin=10", "pmax=60.0", "gt=3.25"]).values
    assert type(result.pmin) is int and result.pmin == 10
    assert type(result.pmax) is float and result.pmax == 60.0
    assert result.link_params() == ["pmin=10", "pmax=60", "gt=3.25"]


def test_many_zeros_of_padding_are_no_problem() -> None:
    assert parse_attributes(["pmin=" + "0" * 5000 + "3"]).values.pmin == 3


@pytest.mark.parametrize(
    ("query", "message"),
    [
        pytest.param(["foo=1"], "unknown attribute 'foo'", id="unknown"),
        pytest.param(["PMIN=1"], "unknown attribute 'PMIN'", id="names-are-case-sensitive"),
        pytest.param(["=5"], "unknown attribute '\\(empty name\\)'", id="empty-name"),
        pytest.param(["dim=2"], "'dim' is read-only", id="read-only-dim"),
        pytest.param(["ver=1.1"], "'ver' is read-only", id="read-only-ver"),
        pytest.param(["hqmax=3"], "hqmax .* not supported", id="hqmax-unsupported"),
        pytest.param(["pmin=-1"], "'pmin': '-1' is not a non-negative number", id="negative-pmin"),
        pytest.param(["st=-1"], "'st': '-1' is not a non-negative", id="negative-step"),
        pytest.param(["stp=-1"], "'stp': '-1'", id="alias-named-in-error"),
        pytest.param(["pmin=abc"], "'abc' is not", id="not-a-number"),
        pytest.param(["pmax=1."], "'1.' is not", id="dot-without-fraction"),
        pytest.param(["pmax=.5"], "'.5' is not", id="fraction-without-integer"),
        pytest.param(["gt=1e3"], "'1e3' is not a number", id="exponent"),
        pytest.param(["gt=inf"], "'inf' is not a number", id="infinity"),
        pytest.param(["gt=nan"], "'nan' is not a number", id="nan"),
        pytest.param(["gt=+5"], "'\\+5' is not a number", id="plus-sign"),
        pytest.param(["gt= 5"], "' 5' is not a number", id="space"),
        pytest.param(["gt=\u0665"], "is not a number", id="non-ascii-digit"),
        pytest.param(["pmin=1" + "0" * 400], "too large", id="too-large"),
        pytest.param(["edge=2"], "'edge': '2' is not 0 or 1", id="edge-not-flag"),
        pytest.param(["con=true"], "'con': 'true' is not 0 or 1", id="con-not-flag"),
        pytest.param(["pmin=1", "pmin=2"], "'pmin' is given twice", id="duplicate"),
        pytest.param(["pmin=1", "pmin"], "'pmin' is given twice", id="set-and-remove"),
        pytest.param(["st=1", "stp=2"], "as 'st' and 'stp'", id="duplicate-through-alias"),
        pytest.param([5], "must be text", id="not-text"),
        pytest.param({"pmin": 5}, "must be text", id="mapping-value-not-text"),
    ],
)
def test_parse_errors_are_400_and_name_the_item(query: Query, message: str) -> None:
    with pytest.raises(BadRequest, match=message) as info:
        parse_attributes(query)
    assert info.value.code_number == 400


def test_thresholds_are_checked_by_validate_for_not_by_parsing() -> None:
    values = parse_attributes(["lt=30", "gt=20"]).values
    assert values == A(lt=30, gt=20)
    with pytest.raises(BadRequest, match="smaller than gt"):
        values.validate_for(Level.RESOURCE, ResourceType.FLOAT)


PERIOD = st.one_of(
    st.none(),
    st.integers(min_value=0, max_value=10**6),
    st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False),
)
THRESHOLD = st.one_of(
    st.none(),
    st.integers(min_value=-(10**9), max_value=10**9),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300),
)
FLAG = st.one_of(st.none(), st.booleans())


@given(
    st.builds(
        NotificationAttributes,
        pmin=PERIOD,
        pmax=PERIOD,
        gt=THRESHOLD,
        lt=THRESHOLD,
        st=PERIOD,
        epmin=PERIOD,
        epmax=PERIOD,
        edge=FLAG,
        con=FLAG,
    )
)
def test_link_params_parse_back_to_the_same_attributes(attrs: NotificationAttributes) -> None:
    assert parse_attributes(attrs.link_params()).values == attrs
