"""Behaviour of the shipped objects: Device, Server, Location, Temperature, Test Object 3442."""

from __future__ import annotations

import random

import pytest

from fleet.clock import ManualClock
from fleet.device import (
    SHIPPED_LAYOUT,
    BootstrapRequested,
    DisableRequested,
    FactoryResetDone,
    ObjectsChanged,
    ObjectTree,
    RebootRequested,
    RegistrationUpdateRequested,
    SendRequested,
    TreeTemplate,
)
from fleet.errors import BadRequest
from fleet.model import (
    ModelRegistry,
    MultiResource,
    ObjectInstance,
    ObjectLink,
    Path,
    SingleResource,
    check_value,
)
from tests.device.conftest import WALL_START, Recorder

S = SingleResource
M = MultiResource
WALL = int(WALL_START)

# Device (3) --------------------------------------------------------------------------------------


def test_reboot_asks_the_client_and_changes_nothing(tree: ObjectTree, recorder: Recorder) -> None:
    tree.execute("/3/0/4")
    assert recorder.events == [RebootRequested(Path(3, 0, 4))]
    assert recorder.changes == []


def test_factory_reset_restores_values_and_instances(
    template: TreeTemplate, clock: ManualClock
) -> None:
    tree = ObjectTree(template, clock=clock, values={"/3442/0/110": "per device"})
    pristine = {oid: tree.read(Path(oid)) for oid in (1, 3, 6, 3303, 3442)}
    tree.write("/3442/0/110", S(110, "changed"), replace=True)
    tree.write("/1/0/1", S(1, 60), replace=True)
    tree.write("/3/0/13", S(13, 0), replace=True)
    tree.set_value("/3303/0/5700", 30.5)
    tree.create(3303, ObjectInstance(1, {}))
    tree.delete("/6/0")
    recorder = Recorder()
    tree.add_change_listener(recorder.on_change)
    tree.add_event_listener(recorder.on_event)
    tree.execute("/3/0/5")
    assert {oid: tree.read(Path(oid)) for oid in (1, 3, 6, 3303, 3442)} == pristine
    assert tree.read("/3442/0/110") == S(110, "per device")
    assert recorder.events == [
        ObjectsChanged(created=(Path(6, 0),), deleted=(Path(3303, 1),)),
        FactoryResetDone(Path(3, 0, 5)),
    ]
    assert {Path(1), Path(3), Path(6), Path(3303), Path(3442)} <= recorder.changed


def test_factory_reset_without_instance_changes_sends_no_objects_changed(
    tree: ObjectTree, recorder: Recorder
) -> None:
    tree.write("/3442/0/120", S(120, 5), replace=True)
    recorder.clear()
    tree.execute("/3/0/5")
    assert recorder.events == [FactoryResetDone(Path(3, 0, 5))]
    assert tree.read("/3442/0/120") == S(120, 1024)


def test_current_time_follows_the_clock(tree: ObjectTree, clock: ManualClock) -> None:
    assert tree.read("/3/0/13") == S(13, WALL)
    clock.advance_sync(42.5)
    assert tree.read("/3/0/13") == S(13, WALL + 42)


def test_writing_current_time_sets_an_offset(tree: ObjectTree, clock: ManualClock) -> None:
    tree.write("/3/0/13", S(13, 946684800), replace=True)
    assert tree.value("/3/0/13") == 946684800
    clock.advance_sync(5)
    assert tree.read("/3/0/13") == S(13, 946684805)
    instance = tree.read("/3/0")
    assert isinstance(instance, ObjectInstance)
    assert instance.resources[13] == S(13, 946684805)


def test_initial_current_time_is_where_the_device_clock_starts(
    registry: ModelRegistry, clock: ManualClock
) -> None:
    layout = SHIPPED_LAYOUT.with_values({"/3/0/13": 1000})
    tree = ObjectTree.build(registry, layout, clock=clock)
    clock.advance_sync(3)
    assert tree.value("/3/0/13") == 1003
    tree.execute("/3/0/5")
    assert tree.value("/3/0/13") == 1000


@pytest.mark.parametrize(("rid", "value"), [(14, "+02:00"), (15, "Europe/Berlin")])
def test_utc_offset_and_timezone_are_writable(tree: ObjectTree, rid: int, value: str) -> None:
    tree.write(f"/3/0/{rid}", S(rid, value), replace=True)
    assert tree.read(f"/3/0/{rid}") == S(rid, value)


def test_reset_error_code_leaves_one_zero(tree: ObjectTree, recorder: Recorder) -> None:
    tree.set_value("/3/0/11", [1, 5])
    assert tree.read("/3/0/11") == M(11, {0: 1, 1: 5})
    recorder.clear()
    tree.execute("/3/0/12")
    assert tree.read("/3/0/11") == M(11, {0: 0})
    assert recorder.changes == [(Path(3, 0, 11),)]


def test_device_defaults_are_plausible(tree: ObjectTree) -> None:
    assert tree.value("/3/0/16") == "U"
    assert tree.value("/3/0/9") == 87
    assert tree.value("/3/0/11") == {0: 0}
    assert tree.value("/3/0/6") == {0: 1, 1: 5}
    for resource in tree.supported(3):
        if not resource.executable and resource.id != 13:
            value = tree.value(Path(3, 0, resource.id))
            values = value.values() if isinstance(value, dict) else [value]
            for v in values:
                assert check_value(resource, v) == v


# Server (1) and Location (6) ----------------------------------------------------------------------


def test_server_executables_become_client_events(tree: ObjectTree, recorder: Recorder) -> None:
    tree.execute("/1/0/8")
    tree.execute("/1/0/4")
    tree.write("/1/0/5", S(5, 60), replace=True)
    tree.execute("/1/0/4")
    tree.execute("/1/0/9")
    assert recorder.events == [
        RegistrationUpdateRequested(Path(1, 0, 8)),
        DisableRequested(Path(1, 0, 4), 86400),
        DisableRequested(Path(1, 0, 4), 60),
        BootstrapRequested(Path(1, 0, 9)),
    ]


def test_location_is_timestamped_when_built(tree: ObjectTree) -> None:
    assert tree.value("/6/0/5") == WALL
    assert -90 <= float(tree.value("/6/0/0")) <= 90  # type: ignore[arg-type]


# Temperature (3303) ------------------------------------------------------------------------------


def test_min_and_max_start_at_the_sensor_value(registry: ModelRegistry) -> None:
    layout = SHIPPED_LAYOUT.with_values({"/3303/0/5700": 18.5})
    tree = ObjectTree.build(registry, layout, clock=ManualClock())
    assert tree.value("/3303/0/5601") == 18.5
    assert tree.value("/3303/0/5602") == 18.5


def test_min_and_max_follow_the_sensor_value(
    tree: ObjectTree, recorder: Recorder, clock: ManualClock
) -> None:
    clock.advance_sync(10)
    tree.set_value("/3303/0/5700", 25)
    assert (tree.value("/3303/0/5601"), tree.value("/3303/0/5602")) == (21.0, 25.0)
    assert recorder.changes == [
        (Path(3303, 0, 5700), Path(3303, 0, 5602), Path(3303, 0, 5518)),
    ]
    assert tree.value("/3303/0/5518") == WALL + 10
    tree.set_value("/3303/0/5700", 10.0)
    tree.set_value("/3303/0/5700", 15.0)
    assert (tree.value("/3303/0/5601"), tree.value("/3303/0/5602")) == (10.0, 25.0)


def test_reset_min_max_takes_the_current_value(tree: ObjectTree) -> None:
    for value in (30.0, 5.0, 12.25):
        tree.set_value("/3303/0/5700", value)
    tree.execute("/3303/0/5605")
    assert (tree.value("/3303/0/5601"), tree.value("/3303/0/5602")) == (12.25, 12.25)


# LwM2M v1.1 Test Object (3442) --------------------------------------------------------------------

INITIAL = {
    110: "initial value",
    120: 1024,
    125: 2**63,
    130: 3.14159,
    140: True,
    150: bytes.fromhex("0123456789ABCDEF"),
    160: 946684800,
    170: ObjectLink(3, 0),
    180: "</3442>",
}


@pytest.mark.parametrize(("rid", "value"), sorted(INITIAL.items()))
def test_test_object_initial_values(tree: ObjectTree, rid: int, value: object) -> None:
    assert tree.value(Path(3442, 0, rid)) == value
    assert tree.value(Path(3442, 0, rid + 1000)) == {0: value}


def test_reset_values_restores_the_instance(tree: ObjectTree) -> None:
    pristine = tree.read("/3442/0")
    tree.write("/3442/0", ObjectInstance(0, {110: S(110, "x")}), replace=True)
    tree.write("/3442/0/6", M(6, {0: "/3/0"}), replace=True)
    tree.execute("/3442/0/3", "1='a'")
    tree.execute("/3442/0/0")
    assert tree.read("/3442/0") == pristine


def test_reset_values_of_a_created_instance(tree: ObjectTree) -> None:
    tree.create(3442, ObjectInstance(4, {120: S(120, 1)}))
    tree.write("/3442/4/110", S(110, "x"), replace=True)
    tree.execute("/3442/4/0")
    assert tree.value("/3442/4/110") == "initial value"
    assert tree.value("/3442/4/120") == 1024


def _randomized(template: TreeTemplate, seed: int) -> object:
    tree = ObjectTree(template, clock=ManualClock(), rng=random.Random(seed))
    tree.write("/3442/0/6", M(6, {0: "/3/0/0"}), replace=True)
    tree.execute("/3442/0/3", "1")
    tree.execute("/3442/0/1")
    return tree.read("/3442/0")


def test_randomize_is_seeded_valid_and_keeps_lists(template: TreeTemplate) -> None:
    first = _randomized(template, 5)
    assert first == _randomized(template, 5)
    assert first != _randomized(template, 6)
    assert isinstance(first, ObjectInstance)
    assert first.resources[4] == M(4, {1: ""})
    assert first.resources[6] == M(6, {0: "/3/0/0"})
    model = template.plans[3442].model
    for rid, node in first.resources.items():
        values = list(node.instances.values()) if isinstance(node, MultiResource) else [node.value]
        if isinstance(node, MultiResource) and rid not in (4, 6):
            assert 1 <= len(values) <= 10
        for value in values:
            assert check_value(model.resource(rid), value) == value
            if isinstance(value, str | bytes):
                assert len(value) <= 20


CLEARED = {
    110: "",
    120: 0,
    125: 0,
    130: 0.0,
    140: False,
    150: b"",
    160: 0,
    170: ObjectLink(65535, 65535),
    180: "",
}


def test_clear_values(tree: ObjectTree) -> None:
    tree.execute("/3442/0/3", "0='x'")
    tree.execute("/3442/0/2")
    for rid, value in CLEARED.items():
        assert tree.value(Path(3442, 0, rid)) == value
        assert type(tree.value(Path(3442, 0, rid))) is type(value)
        assert tree.value(Path(3442, 0, rid + 1000)) == {}
    assert tree.value("/3442/0/4") == {}


def test_exec_with_arguments_fills_the_argument_list(tree: ObjectTree, recorder: Recorder) -> None:
    tree.execute("/3442/0/3", "3='stringValue',4")
    assert tree.read("/3442/0/4") == M(4, {3: "stringValue", 4: ""})
    tree.execute("/3442/0/3", "")
    assert tree.read("/3442/0/4") == M(4, {})
    assert [p for paths in recorder.changes for p in paths] == [Path(3442, 0, 4)] * 2


def test_send_data_asks_to_send_the_listed_paths(tree: ObjectTree, recorder: Recorder) -> None:
    tree.write("/3442/0/6", M(6, {0: "/3303/0/5700", 1: "/3/0"}), replace=True)
    tree.execute("/3442/0/5", "0='110',1='2000'")
    tree.execute("/3442/0/5")
    here = Path(3442, 0, 5)
    listed = (Path(3303, 0, 5700), Path(3, 0))
    assert recorder.events == [
        SendRequested(here, listed, 110, 2.0),
        SendRequested(here, listed, None, None),
    ]


@pytest.mark.parametrize(
    ("listed", "arguments", "words"),
    [
        ({}, "", "is empty"),
        ({0: "/3/0/x"}, "", "not a path"),
        ({0: "/"}, "", "root"),
        ({0: "/3/0"}, "0='json'", "argument 0"),
        ({0: "/3/0"}, "1", "argument 1"),
    ],
)
def test_send_data_refusals(
    tree: ObjectTree, recorder: Recorder, listed: dict[int, str], arguments: str, words: str
) -> None:
    tree.write("/3442/0/6", M(6, listed), replace=True)
    recorder.clear()
    with pytest.raises(BadRequest, match=words) as caught:
        tree.execute("/3442/0/5", arguments)
    assert str(caught.value).startswith("/3442/0/5:")
    assert recorder.events == []
