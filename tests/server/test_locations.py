"""Registration locations are random and never reused, so a restarted server is never confused.

Sequential locations (``/rd/1``, ``/rd/2`` ...) that start again after a restart let a device
that Updates its location from before the restart refresh *another* device's new registration:
the server then sent that endpoint's requests to the wrong device. Here a location is 64 random
bits, an Update or De-register of an unknown location is 4.04 and every device comes back.
Over real UDP on loopback; protocol time on a ManualClock.
"""

from __future__ import annotations

import asyncio
import random
import re

import pytest
from aiocoap.numbers.codes import Code

from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.clock import ManualClock
from fleet.device import SHIPPED_LAYOUT
from fleet.server import EventKind, Lwm2mServer
from fleet.server.directory import Directory
from tests.server.conftest import DeviceFactory

pytestmark = pytest.mark.asyncio
WAIT = 20.0
COHORT = 100


async def test_locations_are_random_and_not_sequential(
    server: Lwm2mServer, make_device: DeviceFactory
) -> None:
    devices = [await make_device(f"loc{i}") for i in range(20)]
    locations = [d.location[1] for d in devices]
    assert len(set(locations)) == len(locations)
    assert all(re.fullmatch(r"[0-9a-f]{16}", loc) for loc in locations), locations
    assert not {"1", "2", "3"} & set(locations)


async def test_two_directories_never_hand_out_the_same_location() -> None:
    """A restarted server (a new directory) hands out none of the old locations."""
    first, second = Directory(ManualClock()), Directory(ManualClock())
    old = {first.register([f"ep=d{i}"], "</3/0>", ("127.0.0.1", i)).location for i in range(500)}
    new = {second.register([f"ep=d{i}"], "</3/0>", ("127.0.0.1", i)).location for i in range(500)}
    assert len(old) == len(new) == 500 and not old & new


async def test_update_and_deregister_of_an_unknown_location_are_not_found(
    server: Lwm2mServer, make_device: DeviceFactory
) -> None:
    device = await make_device("dev1")
    real = device.location
    device.location = ("rd", "1")
    assert (await device.update()).code == Code.NOT_FOUND
    assert (await device.deregister()).code == Code.NOT_FOUND
    device.location = real
    assert (await device.update()).code == Code.CHANGED
    registration = server.registration("dev1")
    assert registration is not None and registration.address == device.address


async def _wait_for(stream: object, count: int, names: set[str]) -> list[object]:
    """``count`` registration/update events for ``names`` (or updates of anyone)."""
    seen: list[object] = []
    assert hasattr(stream, "next")
    while len(seen) < count:
        event = await stream.next(WAIT)
        if event.kind is EventKind.UPDATE or event.endpoint in names:
            seen.append(event)
    return seen


async def restart(host: str, port: int, clock: ManualClock) -> Lwm2mServer:
    """A new server on the port the old one had (released on one of the next loop turns)."""
    for _ in range(10):
        try:
            return await Lwm2mServer.start(host, port, clock=clock, request_timeout=5.0)
        except OSError:
            await asyncio.sleep(0)  # one turn of the loop, no waiting time
    return await Lwm2mServer.start(host, port, clock=clock, request_timeout=5.0)


@pytest.mark.slow
async def test_every_device_comes_back_after_a_restart_under_load() -> None:
    """Two cohorts: B registers first (its old locations come first), A later. After the
    restart A's Updates fail first and A registers again; then B Updates its old locations,
    which on a sequential server are A's new ones. Every device must be back, each
    registration pointing at its own device."""
    clock = ManualClock()
    first = await Lwm2mServer.start(clock=clock, request_timeout=5.0)
    host, port = first.address

    def make(name: str, lifetime: int) -> Device:
        config = DeviceConfig(
            name,
            server=first.uri,
            layout=SHIPPED_LAYOUT,
            lifetime=lifetime,
            exchange_timeout=30,
            values={"/3/0/2": f"serial-{name}"},
        )
        return Device(config, clock=clock, rng=random.Random(name))

    cohort_b = [make(f"b{i:03d}", 300) for i in range(COHORT)]  # Update due at t=207
    cohort_a = [make(f"a{i:03d}", 240) for i in range(COHORT)]  # Update due at t=148
    devices = cohort_b + cohort_a
    second: Lwm2mServer | None = None
    try:
        for device in cohort_b:
            await device.start()
        await asyncio.wait_for(asyncio.gather(*(d.registered.wait() for d in cohort_b)), WAIT)
        await clock.advance(1)
        for device in cohort_a:
            await device.start()
        await asyncio.wait_for(asyncio.gather(*(d.registered.wait() for d in cohort_a)), WAIT)
        assert len(first.registrations()) == 2 * COHORT
        await first.stop()
        second = await restart(host, port, clock)
        names_a, names_b = {d.name for d in cohort_a}, {d.name for d in cohort_b}
        with second.events((EventKind.REGISTRATION, EventKind.UPDATE)) as stream:
            await clock.advance(148)  # t=149: A's Updates -> 4.04 -> A registers again
            seen_a = await _wait_for(stream, COHORT, names_a)
            assert {e.endpoint for e in seen_a} == names_a  # type: ignore[attr-defined]
            await clock.advance(59)  # t=208: B Updates its locations from before the restart
            seen_b = await _wait_for(stream, COHORT, names_b)
        wrong = [e for e in seen_b if e.kind is EventKind.UPDATE]  # type: ignore[attr-defined]
        assert wrong == [], f"{len(wrong)} Updates of old locations refreshed a registration"
        registrations = {r.endpoint: r.address for r in second.registrations()}
        assert registrations == {d.name: d.address for d in devices}
        sample = devices[::20]
        reads = await asyncio.gather(*(second.read(d.name, "/3/0/2") for d in sample))
        assert [r.value for r in reads] == [f"serial-{d.name}" for d in sample]
    finally:
        await first.stop()
        for device in devices:
            await device.stop(deregister=False)
        if second is not None:
            await second.stop()
