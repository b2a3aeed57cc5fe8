"""The actions beyond request faults, as fleet.server sees them: storms, uplink, skew, sessions."""

from __future__ import annotations

import asyncio

import pytest

from fleet.client.coap.wire import Message, encode
from fleet.client.device import Device
from fleet.client.events import ClientEvent, RegistrationFailed
from fleet.server import EventKind, ServerEvent
from tests.client.fakes import raw_replies
from tests.faults.conftest import Rig

pytestmark = pytest.mark.asyncio

GET, CON = 1, 0


def collect(rig: Rig) -> list[ServerEvent]:
    seen: list[ServerEvent] = []
    rig.server.add_listener(seen.append)
    return seen


def kinds(events: list[ServerEvent], kind: EventKind) -> list[str]:
    return sorted(e.endpoint for e in events if e.kind is kind)


async def test_duplicate_sends_the_answer_twice_and_the_server_keeps_one(rig: Rig) -> None:
    (device,) = await rig.add(1, any_source=True)  # raw_replies pokes it from a bare socket
    injector = rig.injector({"action": "duplicate", "operations": ["read"]})
    injector.install(device, 0)
    result = await rig.server.read("dev0", "/3/0/0")
    assert result.code == "2.05" and result.value == device.tree.value("/3/0/0")
    assert injector.counter.by_label == {"duplicate": 1}
    # on the wire: the same answer twice (the server's deduplication drops the second)
    options = Message(code=GET, uri_path=("3", "0", "0")).opt
    assert device.address is not None
    datagram = encode(CON, GET, 4242, b"dup", options, b"")
    first, second = await raw_replies(device.address, datagram, 2)
    assert first == second and first[2:4] == (4242).to_bytes(2, "big")
    assert injector.counter.by_label == {"duplicate": 2}


async def test_deregister_storm_hits_the_drawn_fraction_and_they_come_back(rig: Rig) -> None:
    devices = await rig.add(12)
    injector = rig.injector(
        {"action": "deregister", "fraction": 0.5, "window": {"start": 10}, "duration": "1m"}
    )
    for index, device in enumerate(devices):
        injector.install(device, index)
    chosen = sorted(f"dev{i}" for i in range(12) if injector.select(i))
    assert 0 < len(chosen) < 12
    seen = collect(rig)
    await rig.clock.advance(11.0)
    await asyncio.sleep(0)  # nothing to await on: let the de-register exchanges finish
    for _ in range(50):
        if len(kinds(seen, EventKind.DEREGISTRATION)) == len(chosen):
            break
        await rig.clock.advance(0.01)
    assert kinds(seen, EventKind.DEREGISTRATION) == chosen
    assert {r.endpoint for r in rig.server.registrations()} == {d.name for d in devices} - set(
        chosen
    )
    await rig.clock.advance(60.0)
    for name in chosen:
        await rig.server.wait_for_registration(name, 5.0)
    assert kinds(seen, EventKind.REGISTRATION) == chosen
    assert injector.counter.by_label == {"deregister": len(chosen)}


async def test_reregister_storm_is_a_burst_of_fresh_registers(rig: Rig) -> None:
    devices = await rig.add(5)
    injector = rig.injector({"action": "reregister", "window": {"start": 5}, "spread": "2s"})
    for index, device in enumerate(devices):
        injector.install(device, index)
    before = rig.server.counters.registrations
    seen = collect(rig)
    await rig.clock.advance(7.0)
    for _ in range(50):
        if len(kinds(seen, EventKind.REGISTRATION)) == 5:
            break
        await rig.clock.advance(0.01)
    assert kinds(seen, EventKind.REGISTRATION) == [d.name for d in devices]
    assert rig.server.counters.registrations == before + 5
    assert kinds(seen, EventKind.DEREGISTRATION) == []  # nobody left first
    times = sorted(e.time for e in injector.counter.log)
    assert all(5.0 <= t < 7.0 for t in times) and len(set(times)) == 5  # spread over 2 s


async def test_clock_skew_moves_current_time_as_the_server_reads_it(rig: Rig) -> None:
    (device,) = await rig.add(1)
    first = await rig.server.read("dev0", "/3/0/13", format="text")
    injector = rig.injector({"action": "clock-skew", "skew": "-1h", "window": {"start": 1}})
    injector.install(device, 0)
    await rig.clock.advance(2.0)
    second = await rig.server.read("dev0", "/3/0/13", format="text")
    shift = int(second.payload) - int(first.payload)
    assert -3600 <= shift <= -3600 + 3  # the skew, plus the seconds that passed
    assert injector.counter.by_label == {"clock-skew": 1}


async def test_dropped_registers_never_reach_the_server_until_the_window_closes(
    rig: Rig,
) -> None:
    injector = rig.injector({"action": "drop", "operations": ["register"], "window": {"end": "2m"}})
    failures: list[ClientEvent] = []
    seen = collect(rig)

    def install(device: Device, index: int) -> None:
        injector.install(device, index)
        device.add_listener(
            lambda e: failures.append(e) if isinstance(e, RegistrationFailed) else None
        )

    (device,) = await rig.add(1, install=install, wait=False)
    for _ in range(40):
        await rig.clock.advance(5.0)
        if device.is_registered:
            break
    assert device.is_registered
    assert kinds(seen, EventKind.REGISTRATION) == ["dev0"]  # only the one after the window
    assert failures and all(e.injected for e in failures if isinstance(e, RegistrationFailed))
    dropped = injector.counter.by_label["drop register"]
    assert dropped == len(failures) >= 1
    assert all(e.time < 120 for e in injector.counter.log)


async def test_an_update_rejected_404_on_the_way_makes_a_fresh_register(rig: Rig) -> None:
    injector = rig.injector(
        {"action": "reject", "code": "4.04", "operations": ["update"], "window": {"end": 200}}
    )
    await rig.add(1, install=injector.install, lifetime=100)
    seen = collect(rig)
    for _ in range(30):
        await rig.clock.advance(10.0)
        if kinds(seen, EventKind.REGISTRATION):
            break
    assert kinds(seen, EventKind.REGISTRATION) == ["dev0"]
    assert kinds(seen, EventKind.UPDATE) == []  # the Update never left the device
    assert injector.counter.by_label == {"reject update 4.04": 1}


async def test_a_delayed_update_reaches_the_server_late(rig: Rig) -> None:
    injector = rig.injector({"action": "delay", "delay": "30s", "operations": ["update"]})
    await rig.add(1, install=injector.install, lifetime=100)
    updated = rig.server.expect(EventKind.UPDATE, endpoint="dev0")
    for _ in range(200):
        await rig.clock.advance(1.0)
        if updated.done() or injector.counter.total:
            break
    asked_at = rig.clock.now()
    assert injector.counter.by_label == {"delay update": 1} and not updated.done()
    await rig.clock.advance(29.0)
    assert not updated.done()
    await rig.clock.advance(2.0)
    await asyncio.wait_for(updated, 5.0)
    assert rig.clock.now() - asked_at >= 30.0


async def test_a_lost_session_comes_back_from_a_new_port_with_an_update(rig: Rig) -> None:
    (device,) = await rig.add(1)
    old = device.address
    injector = rig.injector({"action": "lose-session", "window": {"start": 3}})
    injector.install(device, 0)
    updated = rig.server.expect(EventKind.UPDATE, endpoint="dev0")
    await rig.clock.advance(4.0)
    event = await asyncio.wait_for(updated, 5.0)
    assert event.registration is not None and event.registration.address != old
    assert injector.counter.by_label == {"lose-session": 1}


async def test_device_actions_replay_whatever_the_install_order() -> None:
    from fleet.faults import FaultInjector, FaultPlan

    plan = FaultPlan.from_specs(
        [
            {"action": "reboot", "fraction": 0.3, "duration": 5, "spread": "1m"},
            {"action": "silence", "devices": ["10-60"], "fraction": 0.5},
        ]
    )

    def picks(seed: int, order: list[int]) -> dict[int, list[tuple[str, float]]]:
        injector = FaultInjector(plan, seed=seed)
        return {i: [(f.action, o) for f, o in injector.select(i)] for i in order}

    forward = picks(9, list(range(100)))
    backward = picks(9, list(reversed(range(100))))
    assert forward == backward
    assert forward != picks(10, list(range(100)))
    silenced = [i for i, chosen in forward.items() if ("silence", 0.0) in chosen]
    assert silenced and all(10 <= i <= 60 for i in silenced)


async def test_a_dropped_deregister_leaves_the_server_to_expire_the_registration(
    rig: Rig,
) -> None:
    injector = rig.injector({"action": "drop", "operations": ["deregister"]})
    (device,) = await rig.add(1, install=injector.install, lifetime=300)
    seen = collect(rig)
    stopping = asyncio.ensure_future(device.stop())
    for _ in range(100):
        await rig.clock.advance(1.0)
        if stopping.done():
            break
    await stopping
    assert kinds(seen, EventKind.DEREGISTRATION) == []
    assert rig.server.registration("dev0") is not None  # the server still believes in it
    expired = rig.server.expect(EventKind.EXPIRATION, endpoint="dev0")
    await rig.clock.advance(300.0)
    await asyncio.wait_for(expired, 5.0)
    assert injector.counter.by_label == {"drop deregister": 1}
