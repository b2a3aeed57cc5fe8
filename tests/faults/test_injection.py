"""Faults injected into virtual devices as fleet.server sees them: codes, timeouts, expiry."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.events import Operation, RequestServed
from fleet.client.site import Verdict
from fleet.clock import ManualClock
from fleet.device.generators import device_rng
from fleet.faults import FaultInjector, FaultPlan
from fleet.model.path import Path
from fleet.server import DeviceTimeout, EventKind, Lwm2mServer

pytestmark = pytest.mark.asyncio


class Pair:
    def __init__(self, clock: ManualClock, server: Lwm2mServer, device: Device) -> None:
        self.clock, self.server, self.device = clock, server, device


@pytest_asyncio.fixture
async def pair() -> AsyncIterator[Pair]:
    clock = ManualClock()
    server = await Lwm2mServer.start(clock=clock)
    config = DeviceConfig("dev1", server=f"coap://127.0.0.1:{server.address[1]}", lifetime=300)
    device = Device(config, clock=clock, rng=device_rng(1, 0, "coap"))
    try:
        await device.start()
        await server.wait_for_registration("dev1", 5.0)
        yield Pair(clock, server, device)
    finally:
        await device.stop(deregister=False)
        await server.stop()


def plan(*specs: dict[str, Any]) -> FaultPlan:
    return FaultPlan.from_specs(list(specs))


@pytest.mark.parametrize(
    "code", ["4.00", "4.01", "4.03", "4.04", "4.05", "4.06", "4.15", "5.00", "5.03"]
)
async def test_reject_gives_the_server_that_code(pair: Pair, code: str) -> None:
    injector = FaultInjector(
        plan({"action": "reject", "code": code, "operations": ["write"], "paths": ["/3442/0/*"]}),
        seed=7,
    )
    injector.install(pair.device, 0)
    result = await pair.server.write("dev1", "/3442/0/110", "x")
    assert result.code == code
    assert pair.device.tree.value("/3442/0/110") != "x"  # the write never ran
    read = await pair.server.read("dev1", "/3/0/0")  # another operation is untouched
    assert read.code == "2.05"
    assert injector.counter.counts == {"reject": 1}
    assert injector.counter.log[0].path == "/3442/0/110"


async def test_drop_makes_the_server_time_out_and_retransmissions_are_dropped(
    pair: Pair,
) -> None:
    asked: list[Operation] = []

    def drop(request: Any, operation: Operation, path: Path | None) -> Verdict | None:
        asked.append(operation)
        return Verdict.drop()

    pair.device.add_interceptor(drop)
    task = asyncio.create_task(pair.server.read("dev1", "/3/0/0"))
    await pair.clock.advance(44.0)
    assert not task.done()
    await pair.clock.advance(50.0)
    with pytest.raises(DeviceTimeout):
        await task
    assert pair.server.stats()["coap"].retransmissions == 4
    assert asked == [Operation.READ]  # retransmissions never reached the device again


async def test_delay_beyond_ack_timeout_is_answered_once(pair: Pair) -> None:
    served: list[object] = []
    pair.device.add_listener(served.append)
    pair.device.add_interceptor(lambda request, op, path: Verdict.delay(10.0))
    task = asyncio.create_task(pair.server.read("dev1", "/3/0/0"))
    for _ in range(12):
        await pair.clock.advance(1.0)
    result = await asyncio.wait_for(task, 5.0)
    assert result.code == "2.05"
    answers = [e for e in served if type(e).__name__ == "RequestServed"]
    assert len(answers) == 1
    assert pair.server.stats()["coap"].retransmissions == 0  # the empty ACK stopped them


async def test_corrupt_mangles_the_payload(pair: Pair) -> None:
    clean = await pair.server.read("dev1", "/3/0/0", format="text")
    pair.device.add_interceptor(lambda request, op, path: Verdict.corrupt())
    bad = await pair.server.read("dev1", "/3/0/0", format="text")
    assert bad.payload != clean.payload


async def test_silence_lets_the_registration_expire_then_registers_again(pair: Pair) -> None:
    injector = FaultInjector(
        plan({"action": "silence", "window": {"start": 10}, "duration": "20m"}),
        seed=1,
        origin=pair.clock.now(),
    )
    injector.install(pair.device, 0)
    expired = pair.server.expect(EventKind.EXPIRATION, endpoint="dev1")
    await pair.clock.advance(11.0)
    assert not pair.device.is_registered
    await pair.clock.advance(400.0)  # past the 300 s lifetime: no Update came
    await asyncio.wait_for(expired, 5.0)
    back = pair.server.expect(EventKind.REGISTRATION, endpoint="dev1")
    await pair.clock.advance(1200.0)
    await asyncio.wait_for(back, 5.0)
    assert injector.counter.counts == {"silence": 1}


async def test_flap_comes_back_from_a_new_port_with_an_update(pair: Pair) -> None:
    before = pair.server.registration("dev1")
    assert before is not None
    old_port = pair.device.address
    injector = FaultInjector(
        plan({"action": "flap", "window": {"start": 5}, "duration": 30}),
        seed=1,
        origin=pair.clock.now(),
    )
    injector.install(pair.device, 0)
    updated = pair.server.expect(EventKind.UPDATE, endpoint="dev1")
    await pair.clock.advance(6.0)
    assert pair.device.endpoint is None  # unreachable
    await pair.clock.advance(30.0)
    event = await asyncio.wait_for(updated, 5.0)
    assert pair.device.address != old_port
    assert event.registration is not None
    assert event.registration.address == pair.device.address


async def test_reboot_deregisters_and_registers_again(pair: Pair) -> None:
    injector = FaultInjector(
        plan({"action": "reboot", "window": {"start": 5}, "duration": 10}),
        seed=1,
        origin=pair.clock.now(),
    )
    injector.install(pair.device, 0)
    gone = pair.server.expect(EventKind.DEREGISTRATION, endpoint="dev1")
    back = pair.server.expect(EventKind.REGISTRATION, endpoint="dev1")
    await pair.clock.advance(6.0)
    await asyncio.wait_for(gone, 5.0)
    await pair.clock.advance(11.0)
    await asyncio.wait_for(back, 5.0)
    assert injector.counter.counts == {"reboot": 1}


async def test_request_served_carries_the_payload_and_marks_injected_answers(pair: Pair) -> None:
    served: list[RequestServed] = []
    pair.device.add_listener(lambda e: served.append(e) if isinstance(e, RequestServed) else None)
    await pair.server.write("dev1", "/3442/0/110", "hello", format="text")
    pair.device.add_interceptor(lambda request, op, path: Verdict.answer("5.03"))
    await pair.server.write("dev1", "/3442/0/110", "again", format="text")
    assert [(e.code, e.payload, e.injected) for e in served] == [
        ("2.04", b"hello", False),
        ("5.03", b"again", True),
    ]
    assert served[0].request_format == 0
