"""NotificationAttributes: inheritance, effective periods, where each attribute may be assigned."""

from __future__ import annotations

import math

import pytest

from fleet.errors import BadRequest
from fleet.model.path import Level
from fleet.model.types import ResourceType
from fleet.observe import AttributeUpdate, NotificationAttributes, apply_update, format_value

A = NotificationAttributes
T = ResourceType


@pytest.mark.parametrize(
    ("child", "parent", "expected"),
    [
        pytest.param(A(), A(pmin=10, pmax=60), A(pmin=10, pmax=60), id="empty-child-inherits-all"),
        pytest.param(A(pmin=5), A(pmin=10, pmax=60), A(pmin=5, pmax=60), id="child-pmin-wins"),
        pytest.param(A(pmax=0), A(pmax=60), A(pmax=0), id="child-zero-is-a-value-not-absence"),
        pytest.param(A(gt=30), A(pmin=1), A(pmin=1, gt=30), id="child-adds-threshold"),
        pytest.param(A(con=False), A(con=True), A(con=False), id="false-flag-overrides"),
        pytest.param(A(pmin=1, epmin=2), A(), A(pmin=1, epmin=2), id="empty-parent"),
    ],
)
def test_merged_over_lowest_level_wins(
    child: NotificationAttributes, parent: NotificationAttributes, expected: NotificationAttributes
) -> None:
    assert child.merged_over(parent) == expected


@pytest.mark.parametrize(
    ("current", "update", "expected"),
    [
        pytest.param(
            A(lt=30), AttributeUpdate(A(gt=70)), A(lt=30, gt=70), id="set-keeps-the-others"
        ),
        pytest.param(
            A(pmin=10, pmax=60),
            AttributeUpdate(removed=frozenset({"pmin"})),
            A(pmax=60),
            id="remove-one",
        ),
        pytest.param(
            A(pmin=10),
            AttributeUpdate(A(pmax=60), frozenset({"pmin"})),
            A(pmax=60),
            id="set-and-remove-different",
        ),
        pytest.param(A(pmin=10), AttributeUpdate(A(pmin=20)), A(pmin=20), id="overwrite"),
        pytest.param(A(), AttributeUpdate(removed=frozenset({"gt"})), A(), id="remove-absent"),
    ],
)
def test_apply_update(
    current: NotificationAttributes, update: AttributeUpdate, expected: NotificationAttributes
) -> None:
    assert apply_update(current, update) == expected


def test_update_cannot_set_and_remove_the_same_attribute() -> None:
    with pytest.raises(BadRequest, match="both set and removed: pmin"):
        AttributeUpdate(A(pmin=1), frozenset({"pmin"}))


def test_update_cannot_remove_an_unknown_attribute() -> None:
    with pytest.raises(BadRequest, match="unknown attribute"):
        AttributeUpdate(removed=frozenset({"foo"}))


@pytest.mark.parametrize(
    ("attrs", "min_period", "max_period"),
    [
        pytest.param(A(), 0, None, id="nothing-set"),
        pytest.param(A(pmin=10, pmax=60), 10, 60, id="both"),
        pytest.param(A(pmin=10, pmax=10), 10, 10, id="pmax-equal-pmin-kept"),
        pytest.param(A(pmin=60, pmax=10), 60, None, id="pmin-greater-than-pmax-ignores-pmax"),
        pytest.param(A(pmax=0), 0, None, id="pmax-zero-means-none"),
        pytest.param(A(pmax=30), 0, 30, id="pmax-alone"),
        pytest.param(A(pmin=0.5, pmax=1.5), 0.5, 1.5, id="fractions"),
    ],
)
def test_effective_periods(
    attrs: NotificationAttributes, min_period: float, max_period: float | None
) -> None:
    assert attrs.min_period == min_period
    assert attrs.max_period == max_period


@pytest.mark.parametrize(
    ("attrs", "min_evaluation", "max_evaluation"),
    [
        pytest.param(A(), 0, None, id="nothing-set"),
        pytest.param(A(epmin=5, epmax=30), 5, 30, id="both"),
        pytest.param(A(epmin=5, epmax=5), 5, 5, id="equal-kept"),
        pytest.param(A(epmin=30, epmax=5), 30, None, id="epmin-greater-ignores-epmax"),
        pytest.param(A(epmax=0), 0, None, id="epmax-zero-means-none"),
    ],
)
def test_effective_evaluation_periods(
    attrs: NotificationAttributes, min_evaluation: float, max_evaluation: float | None
) -> None:
    assert attrs.min_evaluation_period == min_evaluation
    assert attrs.max_evaluation_period == max_evaluation


@pytest.mark.parametrize(
    ("attrs", "level", "type_", "multiple"),
    [
        pytest.param(A(pmin=1, pmax=2), Level.OBJECT, None, False, id="periods-on-object"),
        pytest.param(A(epmin=1, epmax=2, con=True), Level.INSTANCE, None, False, id="on-instance"),
        pytest.param(A(pmin=1), Level.RESOURCE, T.STRING, False, id="pmin-on-string-resource"),
        pytest.param(A(pmax=5), Level.RESOURCE, T.INTEGER, True, id="pmax-on-multiple-resource"),
        pytest.param(A(gt=1, lt=0), Level.RESOURCE, T.FLOAT, False, id="thresholds-on-float"),
        pytest.param(A(st=1), Level.RESOURCE, T.INTEGER, False, id="step-on-integer"),
        pytest.param(A(gt=1), Level.RESOURCE, T.UNSIGNED_INTEGER, False, id="gt-on-unsigned"),
        pytest.param(A(st=60), Level.RESOURCE, T.TIME, False, id="step-on-time"),
        pytest.param(
            A(gt=5), Level.RESOURCE_INSTANCE, T.INTEGER, True, id="gt-on-instance-of-multi"
        ),
        pytest.param(A(edge=True), Level.RESOURCE, T.BOOLEAN, False, id="edge-on-boolean"),
        pytest.param(A(edge=False), Level.RESOURCE_INSTANCE, T.BOOLEAN, True, id="edge-on-ri"),
        pytest.param(A(lt=-80, gt=-60, st=9.5), Level.RESOURCE, T.FLOAT, False, id="negative-ok"),
        pytest.param(A(), Level.ROOT, None, False, id="nothing-on-root"),
        pytest.param(A(), Level.RESOURCE, T.NONE, False, id="nothing-on-executable"),
    ],
)
def test_validate_for_accepts(
    attrs: NotificationAttributes, level: Level, type_: ResourceType | None, multiple: bool
) -> None:
    attrs.validate_for(level, type_, multiple)


@pytest.mark.parametrize(
    ("attrs", "level", "type_", "multiple", "message"),
    [
        pytest.param(A(pmin=1), Level.ROOT, None, False, "root", id="pmin-on-root"),
        pytest.param(A(gt=1), Level.OBJECT, None, False, "not at object", id="gt-on-object"),
        pytest.param(A(st=1), Level.INSTANCE, None, False, "not at instance", id="st-on-instance"),
        pytest.param(A(edge=True), Level.OBJECT, None, False, "not at object", id="edge-on-object"),
        pytest.param(A(gt=1), Level.RESOURCE, T.STRING, False, "numeric", id="gt-on-string"),
        pytest.param(A(lt=1), Level.RESOURCE, T.BOOLEAN, False, "numeric", id="lt-on-boolean"),
        pytest.param(A(st=1), Level.RESOURCE, T.OPAQUE, False, "numeric", id="st-on-opaque"),
        pytest.param(
            A(gt=1), Level.RESOURCE, T.FLOAT, True, "multiple-instance", id="gt-on-multiple"
        ),
        pytest.param(A(st=1), Level.RESOURCE_INSTANCE, T.STRING, True, "numeric", id="st-on-ri"),
        pytest.param(A(edge=True), Level.RESOURCE, T.INTEGER, False, "Boolean", id="edge-on-int"),
        pytest.param(
            A(edge=True), Level.RESOURCE, T.BOOLEAN, True, "multiple", id="edge-on-multiple"
        ),
        pytest.param(A(pmin=1), Level.RESOURCE, T.NONE, False, "executable", id="on-executable"),
        pytest.param(
            A(lt=5, gt=5),
            Level.RESOURCE,
            T.FLOAT,
            False,
            "lt \\(5\\) must be smaller than gt \\(5\\)",
            id="lt-equal-gt",
        ),
        pytest.param(A(lt=6, gt=5), Level.RESOURCE, T.FLOAT, False, "smaller", id="lt-above-gt"),
        pytest.param(
            A(lt=10, gt=20, st=5),
            Level.RESOURCE,
            T.FLOAT,
            False,
            "lt \\+ 2\\*st",
            id="lt-plus-two-st-equal-gt",
        ),
        pytest.param(
            A(lt=10, gt=20, st=6),
            Level.RESOURCE,
            T.FLOAT,
            False,
            "2\\*6",
            id="lt-plus-two-st-above-gt",
        ),
    ],
)
def test_validate_for_refuses_with_400(
    attrs: NotificationAttributes,
    level: Level,
    type_: ResourceType | None,
    multiple: bool,
    message: str,
) -> None:
    with pytest.raises(BadRequest, match=message) as info:
        attrs.validate_for(level, type_, multiple)
    assert info.value.code_text == "4.00"


def test_validate_for_just_below_the_step_rule_passes() -> None:
    A(lt=10, gt=20, st=4.999).validate_for(Level.RESOURCE, T.FLOAT)


def test_validate_for_needs_the_type_at_resource_level() -> None:
    with pytest.raises(ValueError, match="resource's type"):
        A(pmin=1).validate_for(Level.RESOURCE)


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"pmin": -1}, id="negative-pmin"),
        pytest.param({"pmax": math.inf}, id="infinite-pmax"),
        pytest.param({"st": -0.5}, id="negative-step"),
        pytest.param({"epmin": math.nan}, id="nan-epmin"),
        pytest.param({"gt": math.nan}, id="nan-gt"),
        pytest.param({"lt": -math.inf}, id="infinite-lt"),
        pytest.param({"edge": 1}, id="edge-not-bool"),
        pytest.param({"pmin": True}, id="bool-period"),
        pytest.param({"gt": "5"}, id="text-threshold"),
    ],
)
def test_construction_refuses_impossible_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(BadRequest):
        NotificationAttributes(**kwargs)  # type: ignore[arg-type]


def test_link_params_in_specification_order_and_spelling() -> None:
    attrs = A(con=True, st=0.5, gt=25.5, lt=-3, pmax=60.0, pmin=10, edge=False, epmax=2)
    assert attrs.link_params() == [
        "pmin=10",
        "pmax=60",
        "gt=25.5",
        "lt=-3",
        "st=0.5",
        "epmax=2",
        "edge=0",
        "con=1",
    ]
    assert A().link_params() == []
    assert A().is_empty and not attrs.is_empty


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param(10, "10", id="int"),
        pytest.param(10.0, "10", id="integral-float"),
        pytest.param(-0.25, "-0.25", id="negative-fraction"),
        pytest.param(1e20, "1" + "0" * 20, id="big-float-without-exponent"),
        pytest.param(1.5e-05, "0.000015", id="tiny-float-without-exponent"),
        pytest.param(2.0**53 + 2, "9007199254740994", id="integral-float-beyond-2-53"),
        pytest.param(True, "1", id="true"),
        pytest.param(False, "0", id="false"),
    ],
)
def test_format_value(value: float | bool, text: str) -> None:
    assert format_value(value) == text


@pytest.mark.parametrize(
    ("attrs", "expected"),
    [
        pytest.param(A(), False, id="none"),
        pytest.param(A(pmin=1, pmax=2, edge=True), False, id="periods-and-edge-only"),
        pytest.param(A(gt=1), True, id="gt"),
        pytest.param(A(lt=1), True, id="lt"),
        pytest.param(A(st=0), True, id="st-zero"),
    ],
)
def test_has_value_conditions(attrs: NotificationAttributes, expected: bool) -> None:
    assert attrs.has_value_conditions is expected
