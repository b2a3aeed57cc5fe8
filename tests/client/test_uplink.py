"""Uplink faults on Register / Update / De-register: drop, delay, answer; and their events."""

from __future__ import annotations

import asyncio
import random

import pytest

from fleet.client.coap.params import DEFAULT_PARAMETERS
from fleet.client.device import Device
from fleet.client.events import Deregistered, Registered, RegistrationFailed, Updated
from fleet.client.registration import RegistrationState, update_due
from fleet.client.site import Verdict
from fleet.client.uplink import UPLINK_OPERATIONS, drop_wait, uplink_verdict
from fleet.clock import ManualClock

from .fakes import WAIT, EventLog, FakeServer, device_config, registered_device

pytestmark = pytest.mark.asyncio
EP = "dev-1"


class Script:
    """An uplink interceptor answering from a list per operation, recording what it was asked."""

    def __init__(self, **verdicts: list[Verdict | None]) -> None:
        self.verdicts = {key.replace("_", "-").capitalize(): list(v) for key, v in verdicts.items()}
        self.asked: list[str] = []

    def __call__(self, operation: str) -> Verdict | None:
        self.asked.append(operation)
        queue = self.verdicts.get(operation)
        return queue.pop(0) if queue else None


async def test_the_first_verdict_wins_and_drops_wait_like_a_real_timeout() -> None:
    assert UPLINK_OPERATIONS == ("Register", "Update", "De-register")
    first, second = Script(register=[None]), Script(register=[Verdict.drop()])
    assert uplink_verdict([first, second], "Register") == Verdict.drop()
    assert first.asked == second.asked == ["Register"]
    assert drop_wait(DEFAULT_PARAMETERS, None) == DEFAULT_PARAMETERS.max_transmit_wait
    assert drop_wait(DEFAULT_PARAMETERS, 5.0) == 5.0


async def test_a_dropped_register_times_out_and_the_retry_policy_applies(
    server: FakeServer,
) -> None:
    clock, log = ManualClock(), EventLog()
    device = Device(device_config(server, EP), clock=clock, rng=random.Random(1))
    device.add_listener(log)
    script = Script(register=[Verdict.drop()])
    device.add_uplink_interceptor(script)
    await device.start()
    try:
        wait = drop_wait(device.config.params, device.config.exchange_timeout)
        await clock.advance(wait - 0.5)
        assert not log.of(RegistrationFailed) and server.count("register") == 0
        await clock.advance(0.5)
        failed = await log.next(RegistrationFailed)
        assert failed.injected and failed.started == 0.0 and failed.duration == wait
        assert failed.retry_in is not None and "dropped" in failed.reason
        await clock.advance(failed.retry_in)
        registered = await log.next(Registered)
        assert registered.started == wait + failed.retry_in and server.count("register") == 1
        assert script.asked == ["Register", "Register"]
    finally:
        await device.stop(deregister=False)


async def test_an_answered_register_is_an_injected_failure(server: FakeServer) -> None:
    clock, log = ManualClock(), EventLog()
    device = Device(device_config(server, EP), clock=clock, rng=random.Random(1))
    device.add_listener(log)
    device.add_uplink_interceptor(Script(register=[Verdict.answer("4.03")]))
    await device.start()
    try:
        failed = await log.next(RegistrationFailed)
        assert (
            failed.reason == "answered 4.03 Forbidden"
            and failed.injected
            and failed.duration == 0.0
        )
        assert device.state is RegistrationState.WAITING_RETRY and server.count("register") == 0
    finally:
        await device.stop(deregister=False)


async def test_a_delayed_update_leaves_late_and_its_duration_shows_it(server: FakeServer) -> None:
    clock, log = ManualClock(), EventLog()
    script = Script(update=[Verdict.delay(3.0)])
    async with registered_device(server, EP, clock=clock, log=log, lifetime=300) as device:
        device.add_uplink_interceptor(script)
        due = update_due(0.0, 300)
        await clock.advance(due + 2.5)
        assert server.pending("update") == 0
        await clock.advance(0.5)
        await server.next("update")
        updated = await log.next(Updated)
        assert updated.started == due and updated.duration == pytest.approx(3.0)


async def test_an_update_answered_4_04_by_a_fault_registers_again(server: FakeServer) -> None:
    clock, log = ManualClock(), EventLog()
    async with registered_device(server, EP, clock=clock, log=log, lifetime=300) as device:
        device.add_uplink_interceptor(Script(update=[Verdict.answer("4.04")]))
        device.request_update()
        failed = await log.next(RegistrationFailed)
        assert (failed.operation, failed.injected) == ("Update", True)
        await server.next("register")
        await log.next(Registered)
        assert server.count("update") == 0


async def test_a_dropped_deregister_reports_no_answer(server: FakeServer) -> None:
    clock, log = ManualClock(), EventLog()
    async with registered_device(server, EP, clock=clock, log=log) as device:
        device.add_uplink_interceptor(Script(de_register=[Verdict.drop()]))
        stopping = asyncio.ensure_future(device.stop())
        await clock.advance(0.0)
        await clock.advance(drop_wait(device.config.params, device.config.exchange_timeout))
        await asyncio.wait_for(stopping, WAIT)
        gone = await log.next(Deregistered)
        assert not gone.answered and gone.injected and server.count("deregister") == 0
