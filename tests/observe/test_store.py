"""AttributeStore: Write-Attributes per level, inheritance object -> instance -> resource."""

from __future__ import annotations

import pytest

from fleet.errors import BadRequest
from fleet.model.path import Path
from fleet.model.types import ResourceType
from fleet.observe import AttributeStore, NotificationAttributes, parse_attributes

A = NotificationAttributes
F = ResourceType.FLOAT


def write(store: AttributeStore, path: str, *items: str, type_: ResourceType = F) -> None:
    store.write(Path.parse(path), parse_attributes(list(items)), resource_type=type_)


@pytest.fixture
def store() -> AttributeStore:
    """/3303 pmin=10 pmax=60; /3303/0 pmin=5; /3303/0/5700 gt=30 st=1; /3/0/7/1 lt=3600."""
    result = AttributeStore(default_pmin=1, default_pmax=300)
    write(result, "/3303", "pmin=10", "pmax=60")
    write(result, "/3303/0", "pmin=5")
    write(result, "/3303/0/5700", "gt=30", "st=1")
    result.write(
        Path.parse("/3/0/7"),
        parse_attributes(["epmin=2"]),
        resource_type=ResourceType.INTEGER,
        multiple=True,
    )
    result.write(
        Path.parse("/3/0/7/1"), parse_attributes(["lt=3600"]), resource_type=ResourceType.INTEGER
    )
    return result


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("/3303", A(pmin=10, pmax=60), id="object-level-over-defaults"),
        pytest.param("/3303/0", A(pmin=5, pmax=60), id="instance-overrides-object"),
        pytest.param("/3303/1", A(pmin=10, pmax=60), id="other-instance-inherits-object"),
        pytest.param(
            "/3303/0/5700", A(pmin=5, pmax=60, gt=30, st=1), id="resource-inherits-instance"
        ),
        pytest.param("/3303/0/5701", A(pmin=5, pmax=60), id="sibling-resource-no-thresholds"),
        pytest.param("/3303/1/5700", A(pmin=10, pmax=60), id="same-resource-other-instance"),
        pytest.param("/3/0", A(pmin=1, pmax=300), id="untouched-object-gets-server-defaults"),
        pytest.param("/3/0/7", A(pmin=1, pmax=300, epmin=2), id="multiple-resource"),
        pytest.param(
            "/3/0/7/1", A(pmin=1, pmax=300, epmin=2, lt=3600), id="resource-instance-level"
        ),
        pytest.param("/3/0/7/0", A(pmin=1, pmax=300, epmin=2), id="other-resource-instance"),
    ],
)
def test_effective_inherits_down_to_the_observed_path(
    store: AttributeStore, path: str, expected: NotificationAttributes
) -> None:
    assert store.effective(Path.parse(path)) == expected


def test_levels_below_the_observed_path_do_not_count(store: AttributeStore) -> None:
    assert store.effective(Path.parse("/3303/0")).gt is None


def test_assigned_is_only_what_was_written_at_that_level(store: AttributeStore) -> None:
    assert store.assigned(Path.parse("/3303/0")) == A(pmin=5)
    assert store.assigned(Path.parse("/3303/0/5700")) == A(gt=30, st=1)
    assert store.assigned(Path.parse("/3303/1")) == A()
    assert list(store) == [
        Path.parse(p) for p in ("/3/0/7", "/3/0/7/1", "/3303", "/3303/0", "/3303/0/5700")
    ]


@pytest.mark.parametrize(
    ("path", "removal", "expected"),
    [
        pytest.param("/3303/0", "pmin", A(pmin=10, pmax=60, gt=30, st=1), id="instance-pmin"),
        pytest.param("/3303", "pmax", A(pmin=5, pmax=300, gt=30, st=1), id="object-pmax"),
        pytest.param("/3303/0/5700", "gt", A(pmin=5, pmax=60, st=1), id="resource-gt"),
        pytest.param("/3303/0/5700", "stp", A(pmin=5, pmax=60, gt=30), id="resource-st-by-alias"),
    ],
)
def test_removal_falls_back_to_the_inherited_value(
    store: AttributeStore, path: str, removal: str, expected: NotificationAttributes
) -> None:
    write(store, path, removal)
    assert store.effective(Path.parse("/3303/0/5700")) == expected


def test_removing_the_last_attribute_forgets_the_level(store: AttributeStore) -> None:
    write(store, "/3303/0", "pmin")
    assert Path.parse("/3303/0") not in store
    assert len(store) == 4


def test_write_keeps_attributes_not_named(store: AttributeStore) -> None:
    write(store, "/3303/0/5700", "lt=10")
    assert store.assigned(Path.parse("/3303/0/5700")) == A(gt=30, st=1, lt=10)


def test_refused_write_changes_nothing(store: AttributeStore) -> None:
    before = dict(store.items())
    with pytest.raises(BadRequest, match="smaller than gt"):
        write(store, "/3303/0/5700", "lt=40")  # lt=40 against the gt=30 already there
    with pytest.raises(BadRequest, match="numeric"):
        write(store, "/3303/0/5750", "gt=1", type_=ResourceType.STRING)
    with pytest.raises(BadRequest, match="not at instance level"):
        write(store, "/3303/0", "pmin=1", "gt=1")
    with pytest.raises(BadRequest, match="root"):
        store.write(Path(), parse_attributes(["pmin=1"]))
    assert dict(store.items()) == before


def test_step_rule_is_checked_against_what_the_level_already_holds(store: AttributeStore) -> None:
    with pytest.raises(BadRequest, match="lt \\+ 2\\*st"):
        write(store, "/3303/0/5700", "lt=28")  # 28 + 2*1 = 30: not smaller than gt=30
    write(store, "/3303/0/5700", "lt=27.5")
    assert store.assigned(Path.parse("/3303/0/5700")) == A(gt=30, st=1, lt=27.5)


def test_pmin_above_inherited_pmax_is_accepted_and_pmax_ignored(store: AttributeStore) -> None:
    write(store, "/3303/0/5700", "pmin=100")  # pmax=60 comes from /3303
    attrs = store.effective(Path.parse("/3303/0/5700"))
    assert (attrs.pmin, attrs.pmax) == (100, 60)
    assert attrs.max_period is None


def test_defaults_follow_the_server_object() -> None:
    store = AttributeStore()
    assert store.effective(Path.parse("/3/0/1")) == A()
    assert store.effective(Path.parse("/3/0/1")).min_period == 0
    store.set_defaults(pmin=2, pmax=20)
    assert store.defaults == A(pmin=2, pmax=20)
    assert store.effective(Path.parse("/3/0/1")) == A(pmin=2, pmax=20)
    write(store, "/3/0", "pmax=0")
    assert store.effective(Path.parse("/3/0/1")) == A(pmin=2, pmax=0)
    assert store.effective(Path.parse("/3/0/1")).max_period is None


def test_discard_forgets_the_subtree(store: AttributeStore) -> None:
    store.discard(Path.parse("/3303/0"))
    assert list(store) == [Path.parse(p) for p in ("/3/0/7", "/3/0/7/1", "/3303")]
    assert store.effective(Path.parse("/3303/0/5700")) == A(pmin=10, pmax=60)
    store.clear()
    assert len(store) == 0
    assert store.effective(Path.parse("/3303")) == A(pmin=1, pmax=300)
