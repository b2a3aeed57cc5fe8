"""ObjectModel and ResourceModel: frozen, resources ordered by id."""

from __future__ import annotations

import dataclasses

import pytest

from fleet.model.definitions import ObjectModel, ResourceModel
from fleet.model.types import Operations, ResourceType


def resource(rid: int, ops: str = "R", mandatory: bool = False) -> ResourceModel:
    return ResourceModel(
        rid, f"R{rid}", Operations.from_ddf(ops), False, mandatory, ResourceType.INTEGER
    )


def test_resources_are_sorted_and_read_only() -> None:
    given = {5700: resource(5700), 5601: resource(5601), 6050: resource(6050)}
    obj = ObjectModel(id=3303, name="Temperature", resources=given)
    assert list(obj.resources) == [5601, 5700, 6050]
    assert [r.id for r in obj] == [5601, 5700, 6050]
    with pytest.raises(TypeError):
        obj.resources[1] = resource(1)  # type: ignore[index]
    given[1] = resource(1)
    assert 1 not in obj.resources


def test_models_are_frozen() -> None:
    obj = ObjectModel(id=3, name="Device")
    with pytest.raises(dataclasses.FrozenInstanceError):
        obj.name = "x"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        resource(1).name = "x"  # type: ignore[misc]


def test_mandatory_resources_and_operation_flags() -> None:
    obj = ObjectModel(
        id=3,
        name="Device",
        resources={
            0: resource(0, "R"),
            4: resource(4, "E", mandatory=True),
            13: resource(13, "RW"),
        },
    )
    assert [r.id for r in obj.mandatory_resources] == [4]
    assert obj.resource(4).executable
    assert not obj.resource(4).readable
    assert obj.resource(13).writable and obj.resource(13).readable
    assert obj.key == (3, "1.0")


def test_equal_definitions_compare_equal() -> None:
    a = ObjectModel(id=6, name="Location", resources={0: resource(0)})
    b = ObjectModel(id=6, name="Location", resources={0: resource(0)})
    c = ObjectModel(id=6, name="Location", resources={1: resource(1)})
    assert a == b
    assert a != c
