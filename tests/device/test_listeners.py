"""Change listeners: the right paths, once per operation, nothing when nothing changed."""

from __future__ import annotations

import pytest

from fleet.device import ObjectTree
from fleet.errors import InvalidValue, NotFound
from fleet.model import MultiResource, ObjectInstance, Path, ResourceInstance, SingleResource
from tests.device.conftest import Recorder

S = SingleResource
M = MultiResource


def test_write_reports_the_resource(tree: ObjectTree, recorder: Recorder) -> None:
    tree.write("/3442/0/110", S(110, "Hello"), replace=True)
    assert recorder.changes == [(Path(3442, 0, 110),)]


def test_writing_the_same_value_reports_nothing(tree: ObjectTree, recorder: Recorder) -> None:
    tree.write("/3442/0/110", S(110, "initial value"), replace=True)
    tree.write("/3442/0/1110", M(1110, {0: "initial value"}), replace=False)
    tree.set_value("/3442/0/120", 1024)
    assert recorder.changes == []


def test_one_call_per_operation_with_every_changed_path(
    tree: ObjectTree, recorder: Recorder
) -> None:
    payload = ObjectInstance(0, {110: S(110, "a"), 120: S(120, 1024), 1120: M(1120, {3: 3})})
    tree.write("/3442/0", payload, replace=False)
    assert recorder.changes == [(Path(3442, 0, 110), Path(3442, 0, 1120))]


def test_replace_reports_removed_resources(tree: ObjectTree, recorder: Recorder) -> None:
    tree.write("/1/0", ObjectInstance(0, {1: S(1, 60)}), replace=True)
    (paths,) = recorder.changes
    assert Path(1, 0, 1) in paths
    assert Path(1, 0, 3) in paths  # optional writable, removed
    assert Path(1, 0, 0) not in paths and Path(1, 0, 7) not in paths


def test_resource_instance_write_reports_the_resource(tree: ObjectTree, recorder: Recorder) -> None:
    tree.write("/3442/0/1110/4", ResourceInstance(4, "x"), replace=True)
    assert recorder.changes == [(Path(3442, 0, 1110),)]


def test_set_value_reports_and_refusals_do_not(tree: ObjectTree, recorder: Recorder) -> None:
    tree.set_value("/3/0/9", 50)
    tree.set_value("/3/0/7/1", 4900)
    with pytest.raises(InvalidValue, match="/3/0/9"):
        tree.set_value("/3/0/9", 101)
    with pytest.raises(NotFound):
        tree.set_value("/3/0/99", 1)
    assert recorder.changes == [(Path(3, 0, 9),), (Path(3, 0, 7),)]
    assert tree.value("/3/0/7") == {0: 3800, 1: 4900}


def test_create_and_delete_report_the_instance(tree: ObjectTree, recorder: Recorder) -> None:
    tree.create(3442, ObjectInstance(3, {}))
    tree.delete("/3442/3")
    assert recorder.changes == [(Path(3442, 3),), (Path(3442, 3),)]


def test_several_listeners_and_removal(tree: ObjectTree) -> None:
    first, second = Recorder(), Recorder()
    tree.add_change_listener(first.on_change)
    tree.add_change_listener(second.on_change)
    tree.set_value("/3/0/9", 10)
    tree.remove_change_listener(first.on_change)
    tree.set_value("/3/0/9", 11)
    assert first.changes == [(Path(3, 0, 9),)]
    assert second.changes == [(Path(3, 0, 9),), (Path(3, 0, 9),)]


def test_event_listener_removal(tree: ObjectTree) -> None:
    recorder = Recorder()
    tree.add_event_listener(recorder.on_event)
    tree.execute("/3/0/4")
    tree.remove_event_listener(recorder.on_event)
    tree.execute("/3/0/4")
    assert len(recorder.events) == 1


def test_a_tree_nobody_listens_to_still_works(tree: ObjectTree) -> None:
    tree.set_value("/3303/0/5700", 30.0)
    tree.execute("/3/0/5")
    assert tree.value("/3303/0/5700") == 21.0
