"""Read at every level, readable resources only, and every refusal with its code and path."""

from __future__ import annotations

import pytest

from fleet.clock import ManualClock
from fleet.device import DeviceLayout, ObjectLayout, ObjectTree
from fleet.errors import Lwm2mError, MethodNotAllowed, NotFound, Unauthorized
from fleet.model import (
    ModelRegistry,
    MultiResource,
    ObjectInstance,
    ObjectNode,
    Path,
    ResourceInstance,
    SingleResource,
)
from tests.device.conftest import CUSTOM, custom_model


def test_read_object_lists_every_instance_with_readable_resources(tree: ObjectTree) -> None:
    node = tree.read("/3")
    assert isinstance(node, ObjectNode)
    assert list(node.instances) == [0]
    readable = {r.id for r in tree.model(3) if r.readable}
    assert set(node.instances[0].resources) == readable
    assert not {4, 5, 12} & set(node.instances[0].resources)  # executables are not read


def test_read_instance(tree: ObjectTree) -> None:
    node = tree.read(Path(3303, 0))
    assert isinstance(node, ObjectInstance)
    assert node.resources[5700] == SingleResource(5700, 21.0)
    assert 5605 not in node.resources


def test_read_single_resource(tree: ObjectTree) -> None:
    assert tree.read("/3442/0/110") == SingleResource(110, "initial value")


def test_read_multiple_resource(tree: ObjectTree) -> None:
    assert tree.read("/3/0/6") == MultiResource(6, {0: 1, 1: 5})
    assert tree.read("/3442/0/4") == MultiResource(4, {})


def test_read_resource_instance(tree: ObjectTree) -> None:
    assert tree.read("/3/0/7/1") == ResourceInstance(1, 5000)


def test_read_object_without_instances(registry: ModelRegistry) -> None:
    layout = DeviceLayout.of({3: [0], 3303: []})
    tree = ObjectTree.build(registry, layout, clock=ManualClock())
    assert tree.read("/3303") == ObjectNode(3303, {})


@pytest.mark.parametrize(
    ("path", "error", "words"),
    [
        ("/0", Unauthorized, "Security"),
        ("/0/0", Unauthorized, "Security"),
        ("/0/0/0", Unauthorized, "Security"),
        ("/0/7/3", Unauthorized, "Security"),
        ("/", MethodNotAllowed, "root"),
        ("/4", NotFound, "no object 4"),
        ("/3/1", NotFound, "no instance 1"),
        ("/3303/5/5700", NotFound, "no instance 5"),
        ("/3/0/99", NotFound, "no resource 99"),
        ("/3/0/4", MethodNotAllowed, "not readable"),
        ("/3303/0/5605", MethodNotAllowed, "not readable"),
        ("/3/0/0/0", NotFound, "single-instance"),
        ("/3/0/11/5", NotFound, "no instance 5"),
        ("/3442/0/4/0", NotFound, "no instance 0"),
    ],
)
def test_read_refusals(tree: ObjectTree, path: str, error: type[Lwm2mError], words: str) -> None:
    with pytest.raises(error) as caught:
        tree.read(path)
    assert type(caught.value) is error
    message = str(caught.value)
    assert message.startswith(path if path != "/" else "/:")
    assert words in message


@pytest.mark.parametrize(
    ("error", "code"), [(Unauthorized, "4.01"), (NotFound, "4.04"), (MethodNotAllowed, "4.05")]
)
def test_refusal_codes(error: type[Lwm2mError], code: str) -> None:
    assert error("x").code_text == code


def test_optional_resources_left_out_are_not_found(registry: ModelRegistry) -> None:
    layout = DeviceLayout({3: ObjectLayout(optional=False)}, {"/3/0/1": "M-1"})
    tree = ObjectTree.build(registry, layout, clock=ManualClock())
    with pytest.raises(NotFound, match="not instantiated"):
        tree.read("/3/0/0")
    assert tree.read("/3/0/1") == SingleResource(1, "M-1")
    instance = tree.read("/3/0")
    assert isinstance(instance, ObjectInstance)
    mandatory_readable = {r.id for r in tree.model(3) if r.mandatory and r.readable}
    assert set(instance.resources) == mandatory_readable | {1}


def test_write_only_resources_are_not_read() -> None:
    tree = ObjectTree.build(
        ModelRegistry([custom_model()]), DeviceLayout.of({CUSTOM: [0]}), clock=ManualClock()
    )
    with pytest.raises(MethodNotAllowed, match=f"/{CUSTOM}/0/0: .*not readable"):
        tree.read(f"/{CUSTOM}/0/0")
    instance = tree.read(f"/{CUSTOM}/0")
    assert isinstance(instance, ObjectInstance)
    assert set(instance.resources) == {1, 2, 4}
