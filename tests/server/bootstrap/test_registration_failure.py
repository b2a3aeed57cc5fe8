"""The Server object's registration-failure resources, written by a bootstrap or at the factory.

LwM2M 1.1 Core, Appendix E.2 (object 1 1.1) and the registration procedure (6.2.1.1):

- /1/x/17 Communication Retry Count: Register attempts in one sequence (default 5);
- /1/x/18 Communication Retry Timer: the wait after the n-th failed attempt is
  ``timer * 2**(n-1)`` (exponential back-off, default 60 s);
- /1/x/19 Communication Sequence Delay Timer: the wait between two sequences (default 86400 s);
- /1/x/20 Communication Sequence Retry Count: how many sequences (default 1);
- /1/x/16 Bootstrap on Registration Failure, read per Server instance: a client with a
  Bootstrap-Server bootstraps again once the registration sequences of *every* server
  account failed and a failed account's /1/x/16 is true (absent means true); a second
  account still retrying, or every failed account saying false, keeps it from it.

Every test runs on a ManualClock: the waits are asserted as retry times and advanced, never
slept.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from fleet.client.bootstrap.configs import single
from fleet.client.bootstrap.driver import BootstrapState
from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.events import BootstrapDone, BootstrapFailed, RegistrationFailed
from fleet.client.registration import RegistrationState, RetryPolicy
from fleet.client.site import Verdict
from fleet.clock import ManualClock
from fleet.codec import ContentFormat
from fleet.model.nodes import SingleResource
from fleet.model.path import Path
from fleet.server.bootstrap import BootstrapServer, ServerAccountSpec
from fleet.server.bootstrap.faults import BootstrapFault, BootstrapFaults
from fleet.server.bootstrap.plan import Step
from fleet.server.events import EventKind

from .helpers import Log, bootstrap_pair, device_address, waiting_device
from .test_several_servers import two_servers

pytestmark = pytest.mark.asyncio
WAIT = 10.0


def refusing(device: Device, times: int | None = None) -> dict[str, int]:
    """Make the device's Register answered 4.03 (``times`` of them; all when ``None``)."""
    seen = {"refused": 0}

    def refuse(operation: str) -> Verdict | None:
        if operation == "Register" and (times is None or seen["refused"] < times):
            seen["refused"] += 1
            return Verdict.answer("4.03")
        return None

    device.add_uplink_interceptor(refuse)
    return seen


def next_event(device: Device, kind: type[Any]) -> asyncio.Future[Any]:
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def hear(event: object) -> None:
        if isinstance(event, kind) and not future.done():
            future.set_result(event)

    device.add_listener(hear)
    future.add_done_callback(lambda _: device.remove_listener(hear))
    return future


async def write_server_resources(pair: Any, device: Device, values: dict[int, object]) -> None:
    """Bootstrap-Write each of ``values`` into /1/0 (resource level, TLV)."""
    for rid, value in values.items():
        step = Step(Path(1, 0, rid), SingleResource(rid, value), ContentFormat.TLV)  # type: ignore[arg-type]
        code, payload = await pair.bootstrap.write(device.name, device_address(device), step)
        assert code == "2.04", payload


async def test_bootstrap_written_retry_resources_shape_the_retries_then_bootstrap_again() -> None:
    clock = ManualClock()
    async with waiting_device(False, "retries", clock=clock) as (pair, device, log):
        # 2 attempts a sequence, 7 s back-off base, 100 s between sequences, 2 sequences
        await write_server_resources(pair, device, {17: 2, 18: 7, 19: 100, 20: 2})
        refused = refusing(device)
        first = next_event(device, RegistrationFailed)
        assert (await pair.bootstrap.finish("retries", device_address(device)))[0] == "2.04"
        events = [await asyncio.wait_for(first, WAIT)]
        fell_back = next_event(device, BootstrapFailed)
        for _ in range(3):
            retry_in = events[-1].retry_in
            assert retry_in is not None
            following = next_event(device, RegistrationFailed)
            await clock.advance(retry_in)
            events.append(await asyncio.wait_for(following, WAIT))
        assert [(e.attempt, e.sequence, e.retry_in) for e in events] == [
            (1, 1, 7.0),  # the Retry Timer
            (2, 1, 100.0),  # the sequence's last attempt: the Sequence Delay Timer
            (1, 2, 7.0),
            (2, 2, None),  # the last sequence: given up
        ]
        assert refused["refused"] == 4
        # /1/0/16 absent (true): bootstrap again after the bootstrap back-off
        event = await asyncio.wait_for(fell_back, WAIT)
        assert event.step == "Register" and event.retry_in == 60.0
        assert device.state is RegistrationState.STOPPED
        assert pair.bootstrap.counters["requests"] == 1
        await clock.advance(60)
        await asyncio.wait_for(pair.bootstrap.wait_for_sessions(), WAIT)
        assert pair.bootstrap.counters["requests"] == 2
        assert len(log.of(BootstrapDone)) == 1  # the first; the second session has no Finish


async def test_bootstrap_on_registration_failure_false_keeps_the_device_failed() -> None:
    clock = ManualClock()
    async with waiting_device(False, "stays", clock=clock) as (pair, device, _):
        await write_server_resources(pair, device, {16: False, 17: 1, 20: 1})
        refusing(device)
        failed = next_event(device, RegistrationFailed)
        assert (await pair.bootstrap.finish("stays", device_address(device)))[0] == "2.04"
        event = await asyncio.wait_for(failed, WAIT)
        assert event.final  # one attempt of one sequence
        await clock.advance(10 * 86400)
        assert device.state is RegistrationState.FAILED
        assert device.bootstrap is not None and device.bootstrap.state is BootstrapState.DONE
        assert pair.bootstrap.counters["requests"] == 1


async def test_factory_retry_resources_fall_back_to_the_bootstrap_server() -> None:
    clock = ManualClock()
    async with bootstrap_pair(lifetime=555) as pair:
        config = DeviceConfig(
            "factory-retry",
            server="coap://127.0.0.1:9",  # the factory's server account, which refuses
            bootstrap=pair.bootstrap.uri,
            factory_server=True,
            values={"/1/0/17": 3, "/1/0/18": 4, "/1/0/20": 1},
        )
        device = Device(config, clock=clock)
        refused = refusing(device, times=3)
        failures: list[RegistrationFailed] = []
        device.add_listener(lambda e: isinstance(e, RegistrationFailed) and failures.append(e))
        done = next_event(device, BootstrapDone)
        first = next_event(device, RegistrationFailed)
        await device.start()
        try:
            await asyncio.wait_for(first, WAIT)
            assert pair.bootstrap.counters["requests"] == 0
            bootstrap_failed = next_event(device, BootstrapFailed)
            await clock.advance(4)
            await clock.advance(8)
            assert [(e.attempt, e.retry_in) for e in failures] == [(1, 4.0), (2, 8.0), (3, None)]
            assert refused["refused"] == 3
            event = await asyncio.wait_for(bootstrap_failed, WAIT)
            assert event.step == "Register"
            assert event.retry_in is not None
            await clock.advance(event.retry_in)
            await asyncio.wait_for(done, WAIT)
            registration = await pair.server.wait_for_registration("factory-retry", WAIT)
            assert registration.lifetime == 555  # the account the bootstrap wrote
        finally:
            await device.stop()


async def test_a_server_that_holds_the_registration_keeps_the_device_from_bootstrapping() -> None:
    # two accounts written; the first server is gone (its Register fails), the second
    # registers: not every server refused, so no fall-back to bootstrap
    clock = ManualClock()
    async with two_servers(clock) as (a, b, bootstrap):
        await a.stop()
        retry = RetryPolicy(retry_count=2, retry_timer=10, sequence_retry_count=1)
        device = Device(DeviceConfig("two", bootstrap=bootstrap.uri, retry=retry), clock=clock)
        log = Log()
        log.watch(device)
        first = next_event(device, RegistrationFailed)
        await device.start()
        try:
            await b.wait_for_registration("two", WAIT)
            await asyncio.wait_for(first, WAIT)
            gave_up = next_event(device, RegistrationFailed)
            await clock.advance(10)
            assert (await asyncio.wait_for(gave_up, WAIT)).final
            assert log.of(BootstrapFailed) == []
            assert device.bootstrap is not None and device.bootstrap.state is BootstrapState.DONE
            assert bootstrap.counters["requests"] == 1
        finally:
            await device.stop()


async def test_every_server_refusing_falls_back_with_two_accounts() -> None:
    clock = ManualClock()
    async with two_servers(clock) as (a, b, bootstrap):
        await a.stop()
        await b.stop()
        retry = RetryPolicy(retry_count=2, retry_timer=10, sequence_retry_count=1)
        device = Device(DeviceConfig("none", bootstrap=bootstrap.uri, retry=retry), clock=clock)
        failures: list[RegistrationFailed] = []
        device.add_listener(lambda e: isinstance(e, RegistrationFailed) and failures.append(e))
        fell_back = next_event(device, BootstrapFailed)
        both = asyncio.get_running_loop().create_future()
        device.add_listener(
            lambda e: len(failures) >= 2 and not both.done() and both.set_result(None)
        )
        await device.start()
        try:
            await asyncio.wait_for(both, WAIT)  # the first attempt at each server failed
            await clock.advance(10)
            event = await asyncio.wait_for(fell_back, WAIT)
            assert event.step == "Register" and event.retry_in is not None
            assert sum(1 for f in failures if f.final) >= 1
            assert device.state is RegistrationState.STOPPED
        finally:
            await device.stop()


@asynccontextmanager
async def two_accounts_waiting(
    clock: ManualClock, name: str
) -> AsyncIterator[tuple[BootstrapServer, Device, Log]]:
    """A device a Bootstrap-Server wrote two server accounts into (/1/0 short id 11, /1/1
    short id 22) and whose Finish it holds back (a ``fail-finish`` fault), so a test can
    write each account's /1/x/16..20 and then send Finish. Every Register is refused."""
    specs = [
        ServerAccountSpec("coap://127.0.0.1:9", short_server_id=11),
        ServerAccountSpec("coap://127.0.0.1:19", short_server_id=22),
    ]
    faults = BootstrapFaults((BootstrapFault("fail-finish"),), seed=1)
    bootstrap = await BootstrapServer.start(
        single(specs), clock=clock, request_timeout=5.0, faults=faults
    )
    log = Log()
    device = log.watch(Device(DeviceConfig(name, bootstrap=bootstrap.uri), clock=clock))
    refusing(device)
    held = bootstrap._bus.expect(EventKind.BOOTSTRAP_FINISH, endpoint=name)
    try:
        await device.start()
        await asyncio.wait_for(held, WAIT)
        await asyncio.wait_for(bootstrap.wait_for_sessions(), WAIT)
        assert [device.tree.stored(1, i, 0) for i in device.tree.instances(1)] == [11, 22]
        yield bootstrap, device, log
    finally:
        await device.stop()
        await bootstrap.stop()


async def write_account(
    bootstrap: BootstrapServer, device: Device, instance: int, values: dict[int, object]
) -> None:
    for rid, value in values.items():
        node = SingleResource(rid, value)  # type: ignore[arg-type]
        step = Step(Path(1, instance, rid), node, ContentFormat.TLV)
        code, payload = await bootstrap.write(device.name, device_address(device), step)
        assert code == "2.04", payload


def failures_of(device: Device, count: int) -> asyncio.Future[list[RegistrationFailed]]:
    """A future of the device's next ``count`` RegistrationFailed events (any account)."""
    future: asyncio.Future[list[RegistrationFailed]] = asyncio.get_running_loop().create_future()
    seen: list[RegistrationFailed] = []

    def hear(event: object) -> None:
        if isinstance(event, RegistrationFailed) and not future.done():
            seen.append(event)
            if len(seen) == count:
                future.set_result(seen)

    device.add_listener(hear)
    future.add_done_callback(lambda _: device.remove_listener(hear))
    return future


async def test_an_account_still_retrying_keeps_the_device_from_bootstrapping() -> None:
    # /1/0 gives up after one refused Register; /1/1 retries once 10 s later: the device
    # bootstraps only when the second account's sequence failed too
    clock = ManualClock()
    async with two_accounts_waiting(clock, "retrying") as (bootstrap, device, log):
        await write_account(bootstrap, device, 0, {17: 1, 20: 1})
        await write_account(bootstrap, device, 1, {17: 2, 18: 10, 20: 1})
        first = failures_of(device, 2)
        assert (await bootstrap.finish("retrying", device_address(device)))[0] == "2.04"
        events = await asyncio.wait_for(first, WAIT)
        assert sorted((e.final, e.retry_in) for e in events) == [(False, 10.0), (True, None)]
        assert log.of(BootstrapFailed) == []
        assert device.bootstrap is not None and device.bootstrap.state is BootstrapState.DONE
        fell_back = next_event(device, BootstrapFailed)
        last = failures_of(device, 1)
        await clock.advance(9.9)
        assert not last.done() and not fell_back.done()
        await clock.advance(0.1)
        assert (await asyncio.wait_for(last, WAIT))[0].final
        event = await asyncio.wait_for(fell_back, WAIT)
        assert event.step == "Register" and event.retry_in is not None
        assert device.state is RegistrationState.STOPPED
        await clock.advance(event.retry_in)
        await asyncio.wait_for(bootstrap.wait_for_sessions(), WAIT)
        assert bootstrap.counters["requests"] == 2


@pytest.mark.parametrize(
    ("first", "second", "bootstraps"),
    [
        (False, False, False),  # no failed account asks for the bootstrap
        (False, None, True),  # /1/1/16 absent (true): the second account asks for it
        (None, False, True),  # the first account's absent /1/0/16 asks for it
    ],
)
async def test_bootstrap_on_registration_failure_is_read_per_server_account(
    first: bool | None, second: bool | None, bootstraps: bool
) -> None:
    clock = ManualClock()
    async with two_accounts_waiting(clock, "per-account") as (bootstrap, device, log):
        for instance, flag in ((0, first), (1, second)):
            values: dict[int, object] = {17: 1, 20: 1}
            if flag is not None:
                values[16] = flag
            await write_account(bootstrap, device, instance, values)
        both = failures_of(device, 2)
        assert (await bootstrap.finish("per-account", device_address(device)))[0] == "2.04"
        assert all(e.final for e in await asyncio.wait_for(both, WAIT))
        await clock.advance(120)  # past the bootstrap back-off (60 s) of a fall-back
        await asyncio.wait_for(bootstrap.wait_for_sessions(), WAIT)
        assert bool(log.of(BootstrapFailed)) is bootstraps
        assert bootstrap.counters["requests"] == (2 if bootstraps else 1)
        if not bootstraps:
            assert device.state is RegistrationState.FAILED
            assert device.bootstrap is not None and device.bootstrap.state is BootstrapState.DONE
