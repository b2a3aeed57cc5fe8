"""The Bootstrap-Server's primitives on a tree: Bootstrap-Write (5.2.7.4) and instance removal."""

from __future__ import annotations

import pytest

from fleet.clock import ManualClock
from fleet.device import SHIPPED_LAYOUT
from fleet.device.events import DeviceEvent, ObjectsChanged
from fleet.device.tree import ObjectTree
from fleet.errors import BadRequest, InvalidValue, MethodNotAllowed, NotFound
from fleet.model.nodes import ObjectInstance, ObjectNode, SingleResource
from fleet.model.path import Path
from fleet.model.shipped import shipped_registry


def tree() -> ObjectTree:
    return ObjectTree.build(shipped_registry(), SHIPPED_LAYOUT, clock=ManualClock())


def security(iid: int, uri: str, ssid: object = 1) -> ObjectInstance:
    return ObjectInstance(
        iid,
        {0: SingleResource(0, uri), 1: SingleResource(1, False), 10: SingleResource(10, ssid)},  # type: ignore[arg-type]
    )


def test_an_object_level_write_creates_every_instance_and_reaches_the_security_object() -> None:
    t = tree()
    events: list[DeviceEvent] = []
    t.add_event_listener(events.append)
    node = ObjectNode(0, {1: security(1, "coap://a"), 2: security(2, "coap://b", 2)})
    t.bootstrap_write(Path(0), node)
    assert t.instances(0) == [0, 1, 2]
    assert t.stored(0, 2, 0) == "coap://b" and t.stored(0, 2, 10) == 2
    # mandatory resources not written get their defaults, optional ones stay absent
    assert t.stored(0, 2, 2) == 3 and t.stored(0, 2, 11) is None
    assert events == [ObjectsChanged(created=(Path(0, 1), Path(0, 2)))]


def test_a_write_is_all_or_nothing() -> None:
    t = tree()
    node = ObjectNode(0, {1: security(1, "coap://a"), 2: security(2, "coap://b", "x")})
    with pytest.raises(InvalidValue):
        t.bootstrap_write(Path(0), node)
    assert t.instances(0) == [0]


def test_an_existing_instance_keeps_what_is_not_written() -> None:
    t = tree()
    t.bootstrap_write(Path(1, 0, 1), SingleResource(1, 77))
    assert t.stored(1, 0, 1) == 77 and t.stored(1, 0, 7) == "U"


@pytest.mark.parametrize(
    ("path", "node", "error"),
    [
        (Path(), ObjectNode(0), MethodNotAllowed),
        (Path(0, 1), security(2, "coap://a"), BadRequest),
        (Path(3), ObjectNode(3, {1: ObjectInstance(1)}), BadRequest),  # single-instance
        (Path(1, 0, 8), SingleResource(8, True), MethodNotAllowed),  # executable
        (Path(0, 0, 99), SingleResource(99, 1), NotFound),
        (Path(9), ObjectNode(9), NotFound),
    ],
)
def test_bad_bootstrap_writes_are_refused(path: Path, node: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        tree().bootstrap_write(path, node)  # type: ignore[arg-type]


def test_remove_instance_tells_the_listeners() -> None:
    t = tree()
    events: list[DeviceEvent] = []
    t.add_event_listener(events.append)
    t.remove_instance(1, 0)
    assert t.instances(1) == [] and events == [ObjectsChanged(deleted=(Path(1, 0),))]
    with pytest.raises(NotFound):
        t.remove_instance(1, 0)
