"""Value nodes: flattening to {Path: value}, immutability, path matching."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleet.model.nodes import (
    Composite,
    MultiResource,
    ObjectInstance,
    ObjectNode,
    ResourceInstance,
    SingleResource,
    flatten,
    node_path_matches,
)
from fleet.model.path import Path
from fleet.model.values import ObjectLink


def device_instance() -> ObjectInstance:
    return ObjectInstance(
        0,
        {
            11: MultiResource(11, {1: 5, 0: 0}),
            0: SingleResource(0, "ACME"),
            6: MultiResource(6, {}),
            22: MultiResource(22, {0: ObjectLink(3, 1)}),
        },
    )


def test_flatten_single_and_resource_instance() -> None:
    assert flatten(SingleResource(9, 80), Path(3, 0, 9)) == {Path(3, 0, 9): 80}
    assert flatten(ResourceInstance(1, b"\x01"), Path(3442, 0, 1150, 1)) == {
        Path(3442, 0, 1150, 1): b"\x01"
    }


def test_flatten_instance_orders_leaves_and_skips_empty_multi_resources() -> None:
    flat = flatten(device_instance(), Path(3, 0))
    assert list(flat) == [Path(3, 0, 0), Path(3, 0, 11, 0), Path(3, 0, 11, 1), Path(3, 0, 22, 0)]
    assert flat[Path(3, 0, 11, 1)] == 5
    assert flat[Path(3, 0, 22, 0)] == ObjectLink(3, 1)


def test_flatten_object() -> None:
    obj = ObjectNode(
        3303,
        {
            1: ObjectInstance(1, {5700: SingleResource(5700, 21.5)}),
            0: ObjectInstance(0, {5700: SingleResource(5700, 20.0)}),
        },
    )
    assert flatten(obj, Path(3303)) == {Path(3303, 0, 5700): 20.0, Path(3303, 1, 5700): 21.5}
    assert flatten(ObjectNode(3303), Path(3303)) == {}


def test_flatten_composite_uses_its_own_paths() -> None:
    composite = Composite(
        {
            Path(3303, 0, 5700): SingleResource(5700, 20.0),
            Path(3, 0): device_instance(),
            Path(6, 0, 0): None,
        }
    )
    flat = flatten(composite)
    assert flat[Path(3303, 0, 5700)] == 20.0
    assert flat[Path(3, 0, 0)] == "ACME"
    assert Path(6, 0, 0) not in flat
    assert list(composite.nodes) == [Path(3, 0), Path(6, 0, 0), Path(3303, 0, 5700)]


def test_flatten_needs_a_path_for_plain_nodes() -> None:
    with pytest.raises(TypeError, match="path"):
        flatten(SingleResource(0, 1))


def test_nodes_are_immutable_snapshots() -> None:
    values = {0: 1, 1: 2}
    multi = MultiResource(7, values)
    values[2] = 3
    assert dict(multi.instances) == {0: 1, 1: 2}
    with pytest.raises(TypeError):
        multi.instances[5] = 5  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        multi.id = 8  # type: ignore[misc]
    instance = device_instance()
    with pytest.raises(TypeError):
        instance.resources[99] = SingleResource(99, 1)  # type: ignore[index]
    composite = Composite({Path(3): ObjectNode(3)})
    with pytest.raises(TypeError):
        composite.nodes[Path(4)] = None  # type: ignore[index]


def test_equal_content_means_equal_nodes() -> None:
    assert MultiResource(1, {1: "b", 0: "a"}) == MultiResource(1, {0: "a", 1: "b"})
    assert SingleResource(1, 1) != SingleResource(1, 2)


@pytest.mark.parametrize(
    ("node", "path", "expected"),
    [
        (ObjectNode(3), Path(3), True),
        (ObjectNode(3), Path(4), False),
        (ObjectInstance(0), Path(3, 0), True),
        (SingleResource(9, 1), Path(3, 0, 9), True),
        (MultiResource(11), Path(3, 0, 11), True),
        (SingleResource(9, 1), Path(3, 0), False),
        (ResourceInstance(2, 1), Path(3, 0, 11, 2), True),
        (ResourceInstance(2, 1), Path(3, 0, 11), False),
        (ObjectNode(3), Path(), False),
    ],
)
def test_node_path_matches(node: object, path: Path, expected: bool) -> None:
    assert node_path_matches(node, path) is expected  # type: ignore[arg-type]


@given(st.dictionaries(st.integers(0, 65535), st.integers(), max_size=20))
def test_flatten_multi_resource_has_one_leaf_per_instance(instances: dict[int, int]) -> None:
    flat = flatten(MultiResource(5, instances), Path(3, 0, 5))
    assert flat == {Path(3, 0, 5, ri): v for ri, v in instances.items()}
    assert list(flat) == sorted(flat)
