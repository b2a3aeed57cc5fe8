"""Execute, Create, Delete, Discover and what Register lists."""

from __future__ import annotations

import pytest

from fleet.clock import ManualClock
from fleet.device import DeviceLayout, Executed, Link, ObjectsChanged, ObjectTree
from fleet.errors import (
    BadRequest,
    InvalidValue,
    Lwm2mError,
    MethodNotAllowed,
    NotFound,
    Unauthorized,
)
from fleet.model import ModelRegistry, MultiResource, ObjectInstance, Path, SingleResource
from tests.device.conftest import Recorder, oma_model_registry

S = SingleResource
M = MultiResource

# Execute -----------------------------------------------------------------------------------------


def test_execute_without_a_dedicated_event_emits_executed(
    tree: ObjectTree, recorder: Recorder
) -> None:
    tree.execute("/3303/0/5605", b"1='x',2")
    assert recorder.events == [Executed(Path(3303, 0, 5605), {1: "x", 2: None})]


@pytest.mark.parametrize(
    ("path", "arguments", "error", "words"),
    [
        ("/0/0/0", "", Unauthorized, "Security"),
        ("/", "", MethodNotAllowed, "root"),
        ("/9/0/0", "", NotFound, "no object 9"),
        ("/3/9/4", "", NotFound, "no instance 9"),
        ("/3/0/99", "", NotFound, "no resource 99"),
        ("/3", "", MethodNotAllowed, "not an object"),
        ("/3/0", "", MethodNotAllowed, "not an object instance"),
        ("/3/0/11/0", "", MethodNotAllowed, "not a resource instance"),
        ("/3/0/0", "", MethodNotAllowed, "not executable (operations R)"),
        ("/3/0/13", "", MethodNotAllowed, "not executable (operations RW)"),
        ("/3/0/4", "0=abc", BadRequest, "bad execute arguments"),
        ("/3/0/4", "x", BadRequest, "position 0"),
    ],
)
def test_execute_refusals_run_nothing(
    tree: ObjectTree,
    recorder: Recorder,
    path: str,
    arguments: str,
    error: type[Lwm2mError],
    words: str,
) -> None:
    with pytest.raises(error) as caught:
        tree.execute(path, arguments)
    assert type(caught.value) is error
    assert words in str(caught.value)
    if not isinstance(caught.value, BadRequest):
        assert str(caught.value).startswith(path if path != "/" else "/:")
    assert recorder.events == [] and recorder.changes == []


def test_execute_of_a_resource_left_out_is_not_found(registry: ModelRegistry) -> None:
    tree = ObjectTree.build(
        registry, DeviceLayout.of({3: [0]}, optional=False), clock=ManualClock()
    )
    with pytest.raises(NotFound, match=r"/3/0/5: resource 5 .*not instantiated"):
        tree.execute("/3/0/5")


# Create ------------------------------------------------------------------------------------------


def test_create_with_an_assigned_id(tree: ObjectTree, recorder: Recorder) -> None:
    iid = tree.create(3303, ObjectInstance(0, {5750: S(5750, "fridge")}), assign_id=True)
    assert iid == 1
    assert tree.instances(3303) == [0, 1]
    assert tree.read("/3303/1/5750") == S(5750, "fridge")
    assert tree.read("/3303/1/5700") == S(5700, 21.0)
    assert tree.read("/3303/1/5601") == S(5601, 21.0)  # behaviour ran for the new instance
    assert recorder.events == [ObjectsChanged(created=(Path(3303, 1),))]
    assert Path(3303, 1) in recorder.changed


def test_create_with_the_given_id_and_read_only_initial_values(tree: ObjectTree) -> None:
    iid = tree.create(3303, ObjectInstance(7, {5700: S(5700, -3.5)}))
    assert iid == 7
    assert tree.read("/3303/7/5700") == S(5700, -3.5)
    assert tree.read("/3303/7/5602") == S(5602, -3.5)
    assert Link(Path(3303, 7)) in tree.links()


def test_create_server_account_needs_its_mandatory_writable_resources(tree: ObjectTree) -> None:
    with pytest.raises(BadRequest) as caught:
        tree.create(1, ObjectInstance(1, {1: S(1, 60)}))
    message = str(caught.value)
    assert message.startswith("/1/1:")
    assert "6 (Notification Storing" in message and "7 (Binding)" in message
    assert "0 (Short Server ID)" not in message  # read-only: the device fills it in
    instance = ObjectInstance(1, {1: S(1, 60), 6: S(6, False), 7: S(7, "UQ")})
    assert tree.create(1, instance) == 1
    assert tree.read("/1/1/7") == S(7, "UQ")


def test_create_of_a_single_instance_object_without_instance(registry: ModelRegistry) -> None:
    tree = ObjectTree.build(registry, DeviceLayout.of({3: [0], 6: []}), clock=ManualClock())
    assert tree.create(6, ObjectInstance(0, {}), assign_id=True) == 0
    assert tree.instances(6) == [0]
    with pytest.raises(MethodNotAllowed, match="single-instance"):
        tree.create(6, ObjectInstance(1, {}))


@pytest.mark.parametrize(
    ("object_id", "instance", "error", "words"),
    [
        (0, ObjectInstance(1, {}), Unauthorized, "Security"),
        (9, ObjectInstance(0, {}), NotFound, "no object 9"),
        (3, ObjectInstance(1, {}), MethodNotAllowed, "single-instance"),
        (6, ObjectInstance(1, {}), MethodNotAllowed, "single-instance"),
        (3303, ObjectInstance(0, {}), BadRequest, "already exists"),
        (3303, ObjectInstance(2, {9: S(9, 1.0)}), NotFound, "/3303/2/9"),
        (3303, ObjectInstance(2, {5605: S(5605, 1.0)}), MethodNotAllowed, "executable"),
        (3303, ObjectInstance(2, {5700: S(5700, "hot")}), InvalidValue, "/3303/2/5700"),
        (3303, ObjectInstance(2, {5700: M(5700, {0: 1.0})}), BadRequest, "single resource"),
        (3442, ObjectInstance(2, {1110: S(1110, "x")}), BadRequest, "multiple-instance"),
    ],
)
def test_create_refusals_create_nothing(
    tree: ObjectTree,
    recorder: Recorder,
    object_id: int,
    instance: ObjectInstance,
    error: type[Lwm2mError],
    words: str,
) -> None:
    before = {oid: tree.instances(oid) for oid in (1, 3, 6, 3303, 3442)}
    with pytest.raises(error) as caught:
        tree.create(object_id, instance)
    assert type(caught.value) is error
    assert str(caught.value).startswith(f"/{object_id}")
    assert words in str(caught.value)
    assert {oid: tree.instances(oid) for oid in (1, 3, 6, 3303, 3442)} == before
    assert recorder.events == [] and recorder.changes == []


# Delete ------------------------------------------------------------------------------------------


def test_delete_an_instance(tree: ObjectTree, recorder: Recorder) -> None:
    tree.delete("/3303/0")
    assert tree.instances(3303) == []
    with pytest.raises(NotFound):
        tree.read("/3303/0")
    assert recorder.events == [ObjectsChanged(deleted=(Path(3303, 0),))]
    assert recorder.changes == [(Path(3303, 0),)]
    assert Link(Path(3303), "1.1") in tree.links()  # still supported, now without instances


@pytest.mark.parametrize(
    ("path", "error", "words"),
    [
        ("/0/0", Unauthorized, "Security"),
        ("/", MethodNotAllowed, "root"),
        ("/3/0", MethodNotAllowed, "Device object"),
        ("/3303", MethodNotAllowed, "not an object"),
        ("/3303/0/5700", MethodNotAllowed, "object instance"),
        ("/3/0/11/0", MethodNotAllowed, "object instance"),
        ("/3303/0/9999", NotFound, "no resource 9999"),
        ("/3303/4", NotFound, "no instance 4"),
        ("/9/0", NotFound, "no object 9"),
    ],
)
def test_delete_refusals(
    tree: ObjectTree, recorder: Recorder, path: str, error: type[Lwm2mError], words: str
) -> None:
    with pytest.raises(error) as caught:
        tree.delete(path)
    assert type(caught.value) is error
    assert str(caught.value).startswith(path if path != "/" else "/:")
    assert words in str(caught.value)
    assert tree.instances(3) == [0] and tree.instances(3303) == [0]
    assert recorder.events == []


# Discover ----------------------------------------------------------------------------------------


def test_discover_instance_lists_every_instantiated_resource(tree: ObjectTree) -> None:
    found = tree.discover("/3303/0")
    assert found[0] == (Path(3303, 0), None)
    assert [p for p, _ in found[1:]] == [Path(3303, 0, r.id) for r in tree.model(3303)]
    assert (Path(3303, 0, 5605), None) in found  # executables are discovered too


def test_discover_object_lists_instances_and_dims(tree: ObjectTree) -> None:
    found = dict(tree.discover("/3"))
    assert found[Path(3)] is None and found[Path(3, 0)] is None
    assert found[Path(3, 0, 6)] == 2
    assert found[Path(3, 0, 11)] == 1
    assert found[Path(3, 0, 22)] == 0
    assert found[Path(3, 0, 0)] is None
    assert list(found)[:2] == [Path(3), Path(3, 0)]


def test_discover_resource_lists_its_instances(tree: ObjectTree) -> None:
    assert tree.discover("/3/0/6") == [
        (Path(3, 0, 6), 2),
        (Path(3, 0, 6, 0), None),
        (Path(3, 0, 6, 1), None),
    ]
    assert tree.discover("/3/0/0") == [(Path(3, 0, 0), None)]
    assert tree.discover("/3442/0/4") == [(Path(3442, 0, 4), 0)]


def test_discover_follows_removed_resources(tree: ObjectTree) -> None:
    tree.write("/3442/0", ObjectInstance(0, {110: S(110, "x")}), replace=True)
    paths = [p for p, _ in tree.discover("/3442/0")]
    assert Path(3442, 0, 110) in paths and Path(3442, 0, 120) not in paths


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/0", Unauthorized),
        ("/", MethodNotAllowed),
        ("/9", NotFound),
        ("/3/2", NotFound),
        ("/3/0/99", NotFound),
        ("/3/0/6/0", MethodNotAllowed),
        ("/3/1/6/0", NotFound),
    ],
)
def test_discover_refusals(tree: ObjectTree, path: str, error: type[Lwm2mError]) -> None:
    with pytest.raises(error) as caught:
        tree.discover(path)
    assert type(caught.value) is error
    assert str(caught.value).startswith(path if path != "/" else "/:")


# Register links, versions, instances -------------------------------------------------------------


def test_links_list_objects_and_instances_without_security(tree: ObjectTree) -> None:
    expected: list[Link] = []
    for oid, version in sorted(tree.object_versions().items()):
        if oid == 0:
            continue
        if version != "1.0":
            expected.append(Link(Path(oid), version))
        expected.extend(Link(Path(oid, iid)) for iid in tree.instances(oid))
    assert tree.links() == expected
    assert all(link.path[0] != 0 for link in tree.links())
    assert Link(Path(3, 0)) in tree.links()


def test_object_versions_follow_the_layout(registry: ModelRegistry) -> None:
    both = registry.merged(oma_model_registry("1-1_0"))
    layout = DeviceLayout.of({1: [0], 3303: [0]}, versions={1: "1.0"})
    tree = ObjectTree.build(both, layout, clock=ManualClock())
    assert tree.object_versions() == {1: "1.0", 3303: registry.get(3303).version}
    assert tree.links()[0] == Link(Path(1, 0))  # version 1.0 needs no ;ver
    assert {r.id for r in tree.supported(1)} == set(range(9))
    assert tree.read("/1/0/7") == S(7, "U")  # behaviour defaults still apply
    with pytest.raises(NotFound, match="no resource 22"):  # a 1.1 resource, not in 1.0
        tree.read("/1/0/22")


def test_instances_of_an_unknown_object(tree: ObjectTree) -> None:
    with pytest.raises(NotFound, match="/9: this device has no object 9"):
        tree.instances(9)
