"""Fixtures for the codec tests: the shipped objects plus the objects of the spec's examples.

The specification's worked examples use objects we do not ship (Access Control
2, the hypothetical objects 65, 66 and 67 of Appendix C, IPSO 3308/3311, a Float
resource of object 72). They are defined here in code from the facts the
examples need (ids, types, multiplicity); the shipped ones come from the DDF
loader.
"""

from __future__ import annotations

import pytest

from fleet.model import (
    ModelRegistry,
    MultiResource,
    ObjectInstance,
    ObjectModel,
    Operations,
    ResourceModel,
    ResourceType,
    SingleResource,
)
from fleet.model.ddf import shipped_registry
from fleet.model.ranges import parse_range

T = ResourceType


def resource(
    id_: int, type_: ResourceType, *, multiple: bool = False, range_: str = "", name: str = ""
) -> ResourceModel:
    return ResourceModel(
        id=id_,
        name=name or f"Resource {id_}",
        operations=Operations.RW,
        multiple=multiple,
        mandatory=False,
        type=type_,
        range=parse_range(range_, type_),
    )


def example_objects() -> list[ObjectModel]:
    """Objects of the specification examples that the package does not ship."""

    def obj(id_: int, *resources: ResourceModel, version: str = "1.0") -> ObjectModel:
        return ObjectModel(
            id=id_, name=f"Object {id_}", version=version, resources={r.id: r for r in resources}
        )

    return [
        obj(
            2,
            resource(0, T.INTEGER, range_="1..65534", name="Object ID"),
            resource(1, T.INTEGER, range_="0..65535", name="Object Instance ID"),
            resource(2, T.INTEGER, multiple=True, range_="0..31", name="ACL"),
            resource(3, T.INTEGER, range_="0..65535", name="Access Control Owner"),
        ),
        obj(
            65, resource(0, T.OBJLNK, multiple=True), resource(1, T.STRING), resource(2, T.INTEGER)
        ),
        obj(66, resource(0, T.STRING), resource(1, T.STRING), resource(2, T.OBJLNK)),
        obj(67, resource(0, T.STRING), resource(1, T.STRING)),
        obj(72, resource(2, T.FLOAT)),
        obj(3308, resource(5900, T.FLOAT, name="Set Point Value")),
        obj(3311, resource(5850, T.BOOLEAN, name="On/Off"), resource(5851, T.INTEGER)),
    ]


@pytest.fixture(scope="session")
def models() -> ModelRegistry:
    """Shipped objects (0, 1, 3, 6, 3303, 3442) plus the example objects."""
    registry = shipped_registry()
    for model in example_objects():
        registry.add(model)
    return registry


@pytest.fixture
def device_instance() -> ObjectInstance:
    """The Device object instance of the LwM2M example client (Core §7.4 examples)."""
    return ObjectInstance(
        0,
        {
            0: SingleResource(0, "Open Mobile Alliance"),
            1: SingleResource(1, "Lightweight M2M Client"),
            2: SingleResource(2, "345000123"),
            3: SingleResource(3, "1.0"),
            6: MultiResource(6, {0: 1, 1: 5}),
            7: MultiResource(7, {0: 3800, 1: 5000}),
            8: MultiResource(8, {0: 125, 1: 900}),
            9: SingleResource(9, 100),
            10: SingleResource(10, 15),
            11: MultiResource(11, {0: 0}),
            13: SingleResource(13, 1367491215),
            14: SingleResource(14, "+02:00"),
            16: SingleResource(16, "U"),
        },
    )
