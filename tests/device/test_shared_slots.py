"""Trees of one template share its initial instances until they change (copy on write).

A fleet of 100,000 devices keeps one copy of every initial value: each tree
refers to the template's read-only instances and gets its own list (one
instance) or mapping (one object) only when a value changes or an instance is
created or deleted. These tests change one tree in every way a tree can be
changed and check that its twin, built from the same template, still reads
the initial values.
"""

from __future__ import annotations

import pytest

from fleet.clock import ManualClock
from fleet.device import SHIPPED_LAYOUT, ObjectTree, TreeTemplate
from fleet.device.template import ResolvedValues
from fleet.errors import FleetError
from fleet.model.nodes import ObjectInstance, SingleResource
from fleet.model.path import Path
from fleet.model.shipped import shipped_registry


@pytest.fixture(scope="module")
def template() -> TreeTemplate:
    return TreeTemplate.compile(shipped_registry(), SHIPPED_LAYOUT)


def twins(template: TreeTemplate) -> tuple[ObjectTree, ObjectTree]:
    return (
        ObjectTree(template, clock=ManualClock()),
        ObjectTree(template, clock=ManualClock()),
    )


def test_a_fresh_tree_holds_the_templates_instances_not_copies(template: TreeTemplate) -> None:
    tree, _ = twins(template)
    assert tree._objects[3] is template.plans[3].initial
    assert tree._objects[3][0] is template.plans[3].initial[0]


def test_a_value_set_on_one_tree_leaves_its_twin_and_the_template(template: TreeTemplate) -> None:
    tree, twin = twins(template)
    before = twin.value("/3/0/0")
    tree.set_value("/3/0/0", "changed")
    tree.set_value("/3/0/1", "model")  # a second change to the same instance
    assert tree.value("/3/0/0") == "changed"
    assert tree.value("/3/0/1") == "model"
    assert twin.value("/3/0/0") == before
    assert template.plans[3].initial[0] == twin._objects[3][0]
    assert isinstance(tree._objects[3][0], list)  # its own copy now


def test_writes_of_a_server_change_only_that_tree(template: TreeTemplate) -> None:
    tree, twin = twins(template)
    tree.write_many(
        [
            (Path(1, 0, 1), SingleResource(1, 120)),
            (Path(1, 0, 3), SingleResource(3, 30)),  # same instance, one operation
        ],
        replace=False,
    )
    assert (tree.value("/1/0/1"), tree.value("/1/0/3")) == (120, 30)
    assert twin.value("/1/0/1") != 120 and twin.value("/1/0/3") != 30


def test_create_and_delete_on_one_tree_leave_its_twin(template: TreeTemplate) -> None:
    tree, twin = twins(template)
    iid = tree.create(3303, ObjectInstance(7, {}))
    assert tree.instances(3303) == [0, iid]
    assert twin.instances(3303) == [0]
    tree.delete(Path(3303, 0))
    assert tree.instances(3303) == [iid]
    assert twin.instances(3303) == [0]
    assert list(template.plans[3303].initial) == [0]


def test_bootstrap_writes_and_removals_leave_the_twin(template: TreeTemplate) -> None:
    tree, twin = twins(template)
    server = {0: SingleResource(0, "coap://elsewhere:5683"), 1: SingleResource(1, False)}
    tree.bootstrap_write(Path(0, 0), ObjectInstance(0, server))  # type: ignore[arg-type]
    tree.bootstrap_write(Path(0, 4), ObjectInstance(4, server))  # type: ignore[arg-type]
    assert tree.value("/0/0/0") == "coap://elsewhere:5683"
    assert tree.instances(0) == [0, 4]
    tree.remove_instance(0, 4)
    assert twin.instances(0) == [0] and twin.value("/0/0/0") != "coap://elsewhere:5683"


def test_factory_reset_returns_to_the_shared_instances(template: TreeTemplate) -> None:
    tree, twin = twins(template)
    tree.set_value("/3/0/0", "changed")
    tree.create(3303, ObjectInstance(5, {}))
    tree.factory_reset()
    assert tree.value("/3/0/0") == twin.value("/3/0/0")
    assert tree.instances(3303) == [0]
    assert tree._objects[3] is template.plans[3].initial


def test_the_templates_instances_cannot_be_changed_in_place(template: TreeTemplate) -> None:
    with pytest.raises(TypeError):
        template.plans[3].initial[9] = ()  # type: ignore[index]


def test_resolved_values_are_shared_and_applied_per_tree(template: TreeTemplate) -> None:
    resolved = ResolvedValues(template, {"/1/0/1": 60, "/3/0/0": "ACME"})
    tree = ObjectTree(template, clock=ManualClock(), values=resolved)
    other = ObjectTree(template, clock=ManualClock(), values=resolved)
    assert (tree.value("/1/0/1"), tree.value("/3/0/0")) == (60, "ACME")
    assert tree._objects[1] is other._objects[1]  # one mapping for both
    tree.set_value("/1/0/1", 300)
    assert other.value("/1/0/1") == 60
    tree.restore_instance(1, 0)  # back to what it was built with: the resolved values
    assert tree.value("/1/0/1") == 60


def test_resolved_values_of_another_template_are_refused(template: TreeTemplate) -> None:
    other = TreeTemplate.compile(shipped_registry(), SHIPPED_LAYOUT)
    with pytest.raises(FleetError, match="another template"):
        ObjectTree(template, clock=ManualClock(), values=ResolvedValues(other, {"/1/0/1": 5}))
