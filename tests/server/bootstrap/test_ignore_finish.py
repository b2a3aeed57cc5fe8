"""The device-side fault "device ignores Finish" (``operations: [bootstrap-finish]``).

LwM2M 1.1 Core 5.2.7.4 / 6.1: Bootstrap-Finish tells the client the bootstrap is over; a
client that never answers it leaves the Bootstrap-Server waiting (its request times out)
and, not having acted on it, runs out its own wait for Finish and bootstraps again after
the back-off. ``drop`` ignores the Finish (no answer, nothing done); ``reject`` answers a
code without acting on it; ``delay`` acts on it late. Each is seeded and counted like the
other faults, and the failure it causes is counted as injected.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fleet.client.bootstrap.driver import NO_FINISH, BootstrapState
from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.events import BootstrapFailed, Operation, Registered
from fleet.client.registration import RetryPolicy
from fleet.clock import ManualClock
from fleet.faults import FaultInjector, FaultPlan
from fleet.faults.plan import FaultSpecError
from fleet.faults.rules import parse_fault
from fleet.server.events import EventKind

from .helpers import Log, bootstrap_pair
from .test_timing import next_event

WAIT = 10.0


def faulty(device: Device, spec: dict[str, Any]) -> FaultInjector:
    injector = FaultInjector(FaultPlan.from_specs([spec]), seed=1, origin=device.clock.now())
    injector.install(device, 0)
    return injector


@pytest.mark.asyncio
async def test_a_device_that_ignores_finish_makes_the_server_time_out_then_retries() -> None:
    clock = ManualClock()
    async with bootstrap_pair(request_timeout=0.3) as pair:
        retry = RetryPolicy(retry_count=3, retry_timer=20)
        config = DeviceConfig(
            "deaf", bootstrap=pair.bootstrap.uri, bootstrap_timeout=40, bootstrap_retry=retry
        )
        device = Device(config, clock=clock)
        log = Log()
        log.watch(device)
        injector = faulty(device, {"action": "drop", "operations": ["bootstrap-finish"]})
        unanswered = pair.expect(EventKind.BOOTSTRAP_FINISH, "deaf")
        await device.start()
        try:
            # server side: the Finish got no answer, the session failed, nothing finished
            event = await asyncio.wait_for(unanswered, WAIT)
            assert event.code is None and event.detail.startswith("no answer")
            await asyncio.wait_for(pair.bootstrap.wait_for_sessions(), WAIT)
            assert pair.bootstrap.counters["failed"] == 1
            assert pair.bootstrap.finished == {}
            # device side: it did not act on the Finish (no registration, still waiting)
            assert device.bootstrap is not None
            assert device.bootstrap.state is BootstrapState.WAITING
            assert not log.of(Registered) and pair.server.registration("deaf") is None
            assert injector.counter.by_label == {"drop bootstrap-finish": 1}
            failed = next_event(device, BootstrapFailed)
            await clock.advance(40)
            failure = await asyncio.wait_for(failed, WAIT)
            assert failure.step == "Bootstrap-Finish" and failure.injected
            assert failure.cause == NO_FINISH and failure.retry_in == 20.0
            # the back-off's retry bootstraps again (and is ignored again)
            again = pair.expect(EventKind.BOOTSTRAP_FINISH, "deaf")
            await clock.advance(20)
            assert (await asyncio.wait_for(again, WAIT)).code is None
            assert pair.bootstrap.counters["requests"] == 2
            assert injector.counter.by_label == {"drop bootstrap-finish": 2}
        finally:
            injector.close()
            await device.stop()


@pytest.mark.asyncio
async def test_a_refused_finish_is_answered_but_not_acted_on() -> None:
    clock = ManualClock()
    async with bootstrap_pair() as pair:
        device = Device(DeviceConfig("refuses", bootstrap=pair.bootstrap.uri), clock=clock)
        spec = {"action": "reject", "code": "5.00", "operations": ["bootstrap-finish"]}
        injector = faulty(device, spec)
        refused = pair.expect(EventKind.BOOTSTRAP_FINISH, "refuses")
        await device.start()
        try:
            assert (await asyncio.wait_for(refused, WAIT)).code == "5.00"
            await asyncio.wait_for(pair.bootstrap.wait_for_sessions(), WAIT)
            assert pair.bootstrap.counters["failed"] == 1
            assert device.bootstrap is not None
            assert device.bootstrap.state is BootstrapState.WAITING
            assert injector.counter.by_label == {"reject bootstrap-finish 5.00": 1}
        finally:
            injector.close()
            await device.stop()


@pytest.mark.asyncio
async def test_a_late_finish_is_acted_on_late() -> None:
    clock = ManualClock()
    async with bootstrap_pair() as pair:
        device = Device(DeviceConfig("late", bootstrap=pair.bootstrap.uri), clock=clock)
        arrived: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def spy(request: Any, operation: Operation, path: object) -> None:
            if operation is Operation.BOOTSTRAP_FINISH and not arrived.done():
                arrived.set_result(None)

        device.add_interceptor(spy)  # asked first, lets the fault decide
        spec = {"action": "delay", "delay": "3s", "operations": ["bootstrap-finish"]}
        injector = faulty(device, spec)
        finished = pair.bootstrap.expect_finish("late")
        registered = next_event(device, Registered)
        await device.start()
        try:
            await asyncio.wait_for(arrived, WAIT)
            await clock.advance(2.9)
            assert not registered.done() and not finished.done()
            await clock.advance(0.1)
            assert (await asyncio.wait_for(finished, WAIT)).code == "2.04"
            await asyncio.wait_for(registered, WAIT)
        finally:
            injector.close()
            await device.stop()


def test_finish_faults_are_named_and_checked() -> None:
    everything = parse_fault({"action": "drop"})
    # a fault on "every server request" leaves the Bootstrap-Server's Finish alone
    assert not everything.matches(Operation.BOOTSTRAP_FINISH, None)
    assert everything.matches(Operation.READ, None)
    named = parse_fault({"action": "drop", "operations": ["bootstrap-finish"]})
    assert named.matches(Operation.BOOTSTRAP_FINISH, None)
    assert not named.matches(Operation.READ, None)
    with pytest.raises(FaultSpecError, match="takes drop, delay or reject, not corrupt"):
        parse_fault({"action": "corrupt", "operations": ["bootstrap-finish"]})
    with pytest.raises(FaultSpecError, match="has no object path"):
        parse_fault({"action": "drop", "operations": ["bootstrap-finish"], "paths": ["/1"]})
