"""Write replace (PUT) and partial update (POST) on instances, resources, resource instances."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fleet.clock import ManualClock
from fleet.device import DeviceLayout, ObjectTree, TreeTemplate
from fleet.errors import (
    BadRequest,
    InvalidValue,
    Lwm2mError,
    MethodNotAllowed,
    NotFound,
    Unauthorized,
)
from fleet.model import (
    ModelRegistry,
    MultiResource,
    Node,
    ObjectInstance,
    ObjectLink,
    ObjectNode,
    Path,
    ResourceInstance,
    ResourceType,
    SingleResource,
    Value,
)
from tests.device.conftest import CUSTOM, custom_model

S = SingleResource
M = MultiResource


@pytest.mark.parametrize("replace", [True, False])
def test_single_resource_write_is_the_same_in_both_modes(tree: ObjectTree, replace: bool) -> None:
    tree.write("/3442/0/110", S(110, "Hello"), replace=replace)
    assert tree.read("/3442/0/110") == S(110, "Hello")


def test_replace_multiple_resource_keeps_only_the_payload_instances(tree: ObjectTree) -> None:
    tree.write("/3442/0/1110", M(1110, {5: "a", 7: "b"}), replace=True)
    assert tree.read("/3442/0/1110") == M(1110, {5: "a", 7: "b"})


def test_replace_multiple_resource_with_nothing_empties_it(tree: ObjectTree) -> None:
    tree.write("/3442/0/1120", M(1120, {}), replace=True)
    assert tree.read("/3442/0/1120") == M(1120, {})


def test_partial_update_of_multiple_resource_adds_and_updates(tree: ObjectTree) -> None:
    tree.write("/3442/0/1110", M(1110, {5: "a"}), replace=False)
    tree.write("/3442/0/1110", M(1110, {0: "zero"}), replace=False)
    assert tree.read("/3442/0/1110") == M(1110, {0: "zero", 5: "a"})


@pytest.mark.parametrize("replace", [True, False])
def test_resource_instance_write_sets_one_instance(tree: ObjectTree, replace: bool) -> None:
    tree.write("/3442/0/1120/3", ResourceInstance(3, 7), replace=replace)
    tree.write("/3442/0/1120/0", ResourceInstance(0, 8), replace=replace)
    assert tree.read("/3442/0/1120") == M(1120, {0: 8, 3: 7})


def test_replace_instance_removes_optional_writable_resources_not_given(tree: ObjectTree) -> None:
    tree.write(
        "/3442/0", ObjectInstance(0, {110: S(110, "x"), 1120: M(1120, {1: 5})}), replace=True
    )
    assert tree.read("/3442/0/110") == S(110, "x")
    assert tree.read("/3442/0/1120") == M(1120, {1: 5})
    for gone in (120, 130, 1110, 6):
        with pytest.raises(NotFound, match=f"/3442/0/{gone}: .*not instantiated"):
            tree.read(f"/3442/0/{gone}")
    assert tree.read("/3442/0/4") == M(4, {})  # read-only: untouched
    tree.execute("/3442/0/3", "1")  # executables stay
    assert tree.read("/3442/0/4") == M(4, {1: ""})


def test_replace_instance_keeps_mandatory_resources_not_given(tree: ObjectTree) -> None:
    tree.write("/1/0", ObjectInstance(0, {1: S(1, 300)}), replace=True)
    tree.write("/1/0", ObjectInstance(0, {2: S(2, 10)}), replace=True)
    assert tree.read("/1/0/1") == S(1, 300)  # Lifetime: mandatory, kept
    assert tree.read("/1/0/7") == S(7, "U")  # Binding: mandatory, kept
    assert tree.read("/1/0/2") == S(2, 10)
    with pytest.raises(NotFound):
        tree.read("/1/0/3")  # optional, not in the payload: removed
    assert tree.read("/1/0/0") == S(0, 1)  # read-only: untouched


def test_partial_update_of_instance_leaves_the_rest(tree: ObjectTree) -> None:
    tree.write(
        "/3442/0", ObjectInstance(0, {110: S(110, "x"), 1120: M(1120, {1: 5})}), replace=False
    )
    assert tree.read("/3442/0/110") == S(110, "x")
    assert tree.read("/3442/0/120") == S(120, 1024)
    assert tree.read("/3442/0/1120") == M(1120, {0: 1024, 1: 5})


def test_removed_resources_come_back_when_written(tree: ObjectTree) -> None:
    tree.write("/3442/0", ObjectInstance(0, {110: S(110, "x")}), replace=True)
    tree.write("/3442/0", ObjectInstance(0, {120: S(120, 7)}), replace=False)
    tree.write("/3442/0/130", S(130, 1.5), replace=True)
    tree.write("/3442/0/1110/2", ResourceInstance(2, "two"), replace=True)
    assert tree.read("/3442/0/120") == S(120, 7)
    assert tree.read("/3442/0/130") == S(130, 1.5)
    assert tree.read("/3442/0/1110") == M(1110, {2: "two"})


_BAD_WRITES: list[tuple[str, Node, type[Lwm2mError], str]] = [
    ("/0/0/0", S(0, "coap://x"), Unauthorized, "Security"),
    ("/0/0", ObjectInstance(0, {}), Unauthorized, "Security"),
    ("/", ObjectNode(3442, {}), MethodNotAllowed, "root"),
    ("/3442", ObjectNode(3442, {}), MethodNotAllowed, "Bootstrap-Write"),
    ("/9/0/0", S(0, "x"), NotFound, "no object 9"),
    ("/3442/7/110", S(110, "x"), NotFound, "no instance 7"),
    ("/3442/0/9999", S(9999, "x"), NotFound, "no resource 9999"),
    ("/3/0/0", S(0, "ACME"), MethodNotAllowed, "not writable (operations R)"),
    ("/3/0/4", S(4, "x"), MethodNotAllowed, "not writable (operations E)"),
    ("/3/0/6", M(6, {0: 1}), MethodNotAllowed, "not writable"),
    ("/3/0/6/0", ResourceInstance(0, 1), MethodNotAllowed, "not writable"),
    ("/3442/0/110/0", ResourceInstance(0, "x"), NotFound, "single-instance"),
    ("/3442/0/110", S(110, 5), InvalidValue, "expects a String"),
    ("/3442/0/120", S(120, 2**63), InvalidValue, "does not fit"),
    ("/3442/0/140", S(140, 1), InvalidValue, "Boolean"),
    ("/3442/0/1120/4", ResourceInstance(4, "x"), InvalidValue, "/3442/0/1120/4"),
    ("/3442/0/1120", M(1120, {0: 1, 1: "x"}), InvalidValue, "/3442/0/1120/1"),
    ("/3442/0/1120", M(1120, {70000: 1}), BadRequest, "0..65535"),
    ("/3442/0/110", M(110, {0: "x"}), BadRequest, "single resource"),
    ("/3442/0/1110", S(1110, "x"), BadRequest, "multiple-instance resource"),
    ("/3442/0/110", S(111, "x"), BadRequest, "id 110"),
    ("/3442/0/1110/2", ResourceInstance(3, "x"), BadRequest, "id 2"),
    ("/3442/0", ObjectInstance(1, {}), BadRequest, "object instance with id 0"),
    ("/3442/0", S(110, "x"), BadRequest, "object instance"),
    ("/3/0", ObjectInstance(0, {14: S(14, "+01:00"), 0: S(0, "x")}), MethodNotAllowed, "/3/0/0"),
    ("/3/0", ObjectInstance(0, {999: S(999, "x")}), NotFound, "/3/0/999"),
    (
        "/3442/0",
        ObjectInstance(0, {110: S(110, "ok"), 120: S(120, "no")}),
        InvalidValue,
        "/3442/0/120",
    ),
]


@pytest.mark.parametrize("replace", [True, False])
@pytest.mark.parametrize(("path", "node", "error", "words"), _BAD_WRITES)
def test_write_refusals_change_nothing(
    tree: ObjectTree,
    path: str,
    node: Node,
    error: type[Lwm2mError],
    words: str,
    replace: bool,
) -> None:
    before = {oid: tree.read(Path(oid)) for oid in (1, 3, 3303, 3442)}
    with pytest.raises(error) as caught:
        tree.write(path, node, replace=replace)
    assert type(caught.value) is error
    assert str(caught.value).startswith(path if path != "/" else "/:")
    assert words in str(caught.value)
    assert {oid: tree.read(Path(oid)) for oid in (1, 3, 3303, 3442)} == before


def test_range_is_checked_and_write_only_resources_are_written() -> None:
    tree = ObjectTree.build(
        ModelRegistry([custom_model()]), DeviceLayout.of({CUSTOM: [0]}), clock=ManualClock()
    )
    with pytest.raises(InvalidValue, match=f"/{CUSTOM}/0/1: .*outside 0..100"):
        tree.write(f"/{CUSTOM}/0/1", S(1, 101), replace=True)
    tree.write(f"/{CUSTOM}/0/0", S(0, "hunter2"), replace=True)
    assert tree.value(f"/{CUSTOM}/0/0") == "hunter2"


# random valid writes read back -------------------------------------------------------------------

_BY_TYPE: dict[ResourceType, st.SearchStrategy[Value]] = {
    ResourceType.STRING: st.text(max_size=30),
    ResourceType.CORELNK: st.text(max_size=30),
    ResourceType.INTEGER: st.integers(-(2**63), 2**63 - 1),
    ResourceType.UNSIGNED_INTEGER: st.integers(0, 2**64 - 1),
    ResourceType.FLOAT: st.floats(allow_nan=False, allow_infinity=False),  # non-finite: 4.00
    ResourceType.BOOLEAN: st.booleans(),
    ResourceType.OPAQUE: st.binary(max_size=30),
    ResourceType.TIME: st.integers(-(2**40), 2**40),
    ResourceType.OBJLNK: st.builds(ObjectLink, st.integers(0, 65535), st.integers(0, 65535)),
}


@st.composite
def _writes(draw: st.DrawFn, template: TreeTemplate) -> tuple[Path, Node, bool]:
    resources = [r for r in template.plans[3442].resources if r.writable and r.id != 6]
    resource = draw(st.sampled_from(resources))
    values = _BY_TYPE[resource.type]
    path = Path(3442, 0, resource.id)
    replace = draw(st.booleans())
    if not resource.multiple:
        return path, S(resource.id, draw(values)), replace
    if draw(st.booleans()):
        ri = draw(st.integers(0, 20))
        return path.child(ri), ResourceInstance(ri, draw(values)), replace
    instances = draw(st.dictionaries(st.integers(0, 20), values, max_size=4))
    return path, M(resource.id, instances), replace


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=60)
@given(data=st.data())
def test_random_valid_writes_read_back(template: TreeTemplate, data: st.DataObject) -> None:
    tree = ObjectTree(template, clock=ManualClock(), rng=random.Random(0))
    expected: dict[Path, object] = {}
    for _ in range(data.draw(st.integers(1, 8))):
        path, node, replace = data.draw(_writes(template))
        resource_path = Path(*path[:3])
        before = tree.read(resource_path)
        tree.write(path, node, replace=replace)
        if isinstance(node, SingleResource):
            expected[resource_path] = node.value
        elif isinstance(node, ResourceInstance):
            assert isinstance(before, MultiResource)
            expected[resource_path] = {**before.instances, node.id: node.value}
        else:
            assert isinstance(node, MultiResource) and isinstance(before, MultiResource)
            merged = dict(node.instances) if replace else {**before.instances, **node.instances}
            expected[resource_path] = merged
    for resource_path, value in expected.items():
        node = tree.read(resource_path)
        got = node.value if isinstance(node, SingleResource) else dict(node.instances)  # type: ignore[union-attr]
        assert _same(got, value), (resource_path, got, value)


def _same(a: object, b: object) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float | int):
        return a == b or (math.isnan(a) and math.isnan(b))
    return a == b and type(a) is type(b)


# several writes at once (Write-Composite) --------------------------------------------------------


def test_write_many_applies_all_and_notifies_once(tree: ObjectTree) -> None:
    changes: list[tuple[Path, ...]] = []
    tree.add_change_listener(changes.append)
    tree.write_many(
        [
            ("/3442/0/110", S(110, "a")),
            (Path(3, 0, 14), S(14, "+01:00")),
            ("/3442/0/1110", M(1110, {3: "x"})),
            ("/3442/0/1110/4", ResourceInstance(4, "y")),
        ],
        replace=False,
    )
    assert tree.value("/3442/0/110") == "a"
    assert tree.value("/3/0/14") == "+01:00"
    assert tree.value("/3442/0/1110") == {0: "initial value", 3: "x", 4: "y"}
    assert changes == [(Path(3442, 0, 110), Path(3, 0, 14), Path(3442, 0, 1110))]


def test_write_many_is_all_or_nothing(tree: ObjectTree) -> None:
    before = tree.read("/3442/0")
    with pytest.raises(MethodNotAllowed, match="/3/0/0"):
        tree.write_many([("/3442/0/110", S(110, "a")), ("/3/0/0", S(0, "ACME"))], replace=False)
    assert tree.read("/3442/0") == before
