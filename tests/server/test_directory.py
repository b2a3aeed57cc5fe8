"""The registration directory: register, update, de-register and expiry on a manual clock."""

from __future__ import annotations

import pytest

from fleet.clock import ManualClock
from fleet.errors import BadRequest, NotFound
from fleet.server.directory import Directory, DirectoryEvent, DirectoryEventKind

ADDR = ("127.0.0.1", 40000)


def make() -> tuple[ManualClock, Directory, list[DirectoryEvent]]:
    clock = ManualClock()
    directory = Directory(clock)
    events: list[DirectoryEvent] = []
    directory.subscribe(events.append)
    return clock, directory, events


def test_register_then_expire_after_lifetime() -> None:
    clock, directory, events = make()
    reg = directory.register(["ep=dev1", "lt=60", "lwm2m=1.1", "b=U"], "</3/0>", ADDR)
    assert reg.lifetime == 60 and reg.lwm2m_version == "1.1" and not reg.queue_mode
    clock.advance_sync(59.9)
    assert directory.get("dev1") is not None
    clock.advance_sync(0.2)
    assert directory.get("dev1") is None
    assert [e.kind for e in events] == [DirectoryEventKind.REGISTERED, DirectoryEventKind.EXPIRED]


def test_update_pushes_expiry_and_changes_lifetime() -> None:
    clock, directory, events = make()
    reg = directory.register(["ep=dev1", "lt=60"], "</3/0>", ADDR)
    clock.advance_sync(50)
    updated = directory.update(reg.location, ["lt=100"], None, ("127.0.0.1", 40001))
    assert updated.lifetime == 100 and updated.address == ("127.0.0.1", 40001)
    assert updated.links == "</3/0>"
    clock.advance_sync(99)
    assert directory.get("dev1") is not None
    clock.advance_sync(2)
    assert directory.get("dev1") is None
    assert events[-1].kind is DirectoryEventKind.EXPIRED


def test_deregister_removes_without_expiry_event() -> None:
    clock, directory, events = make()
    reg = directory.register(["ep=dev1", "lt=10"], "", ADDR)
    directory.deregister(reg.location)
    clock.advance_sync(20)
    assert [e.kind for e in events] == [
        DirectoryEventKind.REGISTERED,
        DirectoryEventKind.DEREGISTERED,
    ]
    with pytest.raises(NotFound):
        directory.update(reg.location, [], None, ADDR)


def test_reregister_replaces_and_old_location_is_gone() -> None:
    clock, directory, _ = make()
    first = directory.register(["ep=dev1", "lt=10"], "", ADDR)
    second = directory.register(["ep=dev1", "lt=30"], "", ADDR)
    assert first.location != second.location
    with pytest.raises(NotFound):
        directory.by_location(first.location)
    clock.advance_sync(15)  # the first registration's timer must not expire the second
    assert directory.get("dev1") == second


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (["lt=60"], "endpoint name"),
        (["ep=a", "lt=abc"], "lifetime"),
        (["ep=a", "lt=0"], "lifetime"),
        (["ep=a", "ep=b"], "twice"),
    ],
)
def test_bad_register_queries(query: list[str], message: str) -> None:
    _, directory, _ = make()
    with pytest.raises(BadRequest, match=message):
        directory.register(query, "", ADDR)


def test_queue_mode_from_q_parameter_or_binding() -> None:
    _, directory, _ = make()
    assert directory.register(["ep=a", "b=U", "Q"], "", ADDR).queue_mode
    assert directory.register(["ep=b", "b=UQ"], "", ADDR).queue_mode
