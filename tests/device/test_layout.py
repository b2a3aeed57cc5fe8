"""Layouts: compiled once, checked against the definitions, shared by the trees built from them."""

from __future__ import annotations

import pytest

from fleet.clock import ManualClock
from fleet.device import (
    SHIPPED_LAYOUT,
    DeviceLayout,
    LayoutError,
    ObjectLayout,
    ObjectTree,
    TreeTemplate,
)
from fleet.model import ModelRegistry, ObjectLink, Path


@pytest.mark.parametrize(
    ("layout", "item", "words"),
    [
        (DeviceLayout.of({19: [0]}), "/19", "no definition for object 19"),
        (DeviceLayout.of({3: [0]}, versions={3: "9.9"}), "/3", "version 9.9"),
        (DeviceLayout.of({3: [0, 1]}), "/3", "single-instance"),
        (DeviceLayout.of({3: [0]}, values={"/3/0": 1}), "/3/0", "resource path"),
        (DeviceLayout.of({3: [0]}, values={"/6/0/0": 1.0}), "/6/0/0", "not in the layout"),
        (DeviceLayout.of({3: [0]}, values={"/3/0/99": 1}), "/3/0/99", "not defined"),
        (DeviceLayout.of({3: [0]}, values={"/3/1/0": "x"}), "/3/1", "instance 1"),
        (DeviceLayout.of({3: [0]}, values={"/3/0/4": "x"}), "/3/0/4", "executable"),
        (DeviceLayout.of({3: [0]}, values={"/3/0/9": "lots"}), "/3/0/9", "not an Integer"),
        (DeviceLayout.of({3: [0]}, values={"/3/0/9": 101}), "/3/0/9", "outside 0..100"),
        (DeviceLayout.of({3: [0]}, values={"/3/0/0/1": "x"}), "/3/0/0/1", "single-instance"),
        (DeviceLayout.of({3: [0]}, values={"/3/0/6": {"a": 1}}), "/3/0/6", "instance id"),
        (DeviceLayout.of({3: [0]}, values={"3/0/x": 1}), "3/0/x", "not a number"),
    ],
)
def test_layout_mistakes_name_the_item(
    registry: ModelRegistry, layout: DeviceLayout, item: str, words: str
) -> None:
    with pytest.raises(LayoutError) as caught:
        TreeTemplate.compile(registry, layout)
    assert caught.value.item == item
    assert words in str(caught.value)


def test_object_layout_refuses_repeated_or_bad_instances() -> None:
    with pytest.raises(LayoutError, match="repeat"):
        ObjectLayout((0, 0))
    with pytest.raises(LayoutError, match=r"0\.\.65534"):
        ObjectLayout((65535,))
    with pytest.raises(LayoutError, match="not in the layout"):
        DeviceLayout.of({3: [0]}, versions={6: "1.0"})


def test_multiple_values_in_every_form(registry: ModelRegistry) -> None:
    values = {
        "/3/0/6": [1, 2],
        "/3/0/7": {"0": 3300, 2: 5000},
        "/3/0/8": 12,
        "/3/0/11/3": 4,
        "/3/0/11/5": "6",
        "/3/0/22": ["3303:0", ObjectLink(6, 0)],
    }
    tree = ObjectTree.build(registry, DeviceLayout.of({3: [0]}, values=values), clock=ManualClock())
    assert tree.value("/3/0/6") == {0: 1, 1: 2}
    assert tree.value("/3/0/7") == {0: 3300, 2: 5000}
    assert tree.value("/3/0/8") == {0: 12}
    assert tree.value("/3/0/11") == {3: 4, 5: 6}
    assert tree.value("/3/0/22") == {0: ObjectLink(3303, 0), 1: ObjectLink(6, 0)}


def test_mandatory_only_layout(registry: ModelRegistry) -> None:
    layout = DeviceLayout({3303: ObjectLayout((0, 2), optional=False)}, {"/3303/2/5750": "outdoor"})
    template = TreeTemplate.compile(registry, layout)
    ids = {r.id for r in template.plans[3303].resources}
    assert ids == {r.id for r in registry.get(3303) if r.mandatory} | {5750}
    tree = ObjectTree(template, clock=ManualClock())
    assert tree.value("/3303/2/5750") == "outdoor"
    assert tree.value("/3303/0/5750") == ""


def test_per_device_values_and_shared_initial_values(template: TreeTemplate) -> None:
    first = ObjectTree(template, clock=ManualClock(), values={"/3/0/2": "SN-1"})
    second = ObjectTree(template, clock=ManualClock(), values={Path(3, 0, 2): "SN-2"})
    assert (first.value("/3/0/2"), second.value("/3/0/2")) == ("SN-1", "SN-2")
    assert first.value("/3442/0/110") is second.value("/3442/0/110")
    with pytest.raises(LayoutError, match="no instance 4") as caught:
        ObjectTree(template, clock=ManualClock(), values={"/3303/4/5700": 1.0})
    assert caught.value.item == "/3303/4/5700"


def test_shipped_layout_has_every_shipped_object(registry: ModelRegistry) -> None:
    template = TreeTemplate.compile(registry, SHIPPED_LAYOUT)
    assert sorted(template.plans) == [0, 1, 3, 6, 3303, 3442]
    assert all(list(plan.initial) == [0] for plan in template)


def test_with_values_adds_to_a_layout() -> None:
    layout = SHIPPED_LAYOUT.with_values({"/3/0/0": "ACME"}).with_values({"/3/0/0": "Other"})
    assert layout.values == {"/3/0/0": "Other"}
    assert layout.objects == SHIPPED_LAYOUT.objects
