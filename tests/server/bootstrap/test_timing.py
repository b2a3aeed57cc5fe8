"""Bootstrap timing on a ManualClock: hold-off, back-off, the wait for Finish, the account
timeout, the fall-back to bootstrap when Register is refused, /1/x/9 and server-initiated
bootstrap (LwM2M 1.1 Core 6.1, 5.2.7; Appendix E.1 /0/x/11, /0/x/12; E.2 /1/x/9, /1/x/16)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from fleet.client.bootstrap.driver import BootstrapState
from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.events import BootstrapDone, BootstrapFailed, Registered
from fleet.client.registration import RegistrationState, RetryPolicy
from fleet.client.site import Verdict
from fleet.clock import ManualClock
from fleet.server.bootstrap.faults import BootstrapFault
from fleet.server.events import EventKind
from tests.client.dtls.helpers import requires_dtls

from .helpers import BOOTSTRAP_PSK, Log, bootstrap_pair

pytestmark = pytest.mark.asyncio
WAIT = 10.0


def next_event(device: Device, kind: type[Any]) -> asyncio.Future[Any]:
    """A future of the device's next event of ``kind`` (create it before causing it)."""
    future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def hear(event: object) -> None:
        if isinstance(event, kind) and not future.done():
            future.set_result(event)

    device.add_listener(hear)
    future.add_done_callback(lambda _: device.remove_listener(hear))
    return future


async def test_the_first_request_waits_for_the_client_hold_off_time() -> None:
    clock = ManualClock()
    async with bootstrap_pair() as pair:
        config = DeviceConfig("hold", bootstrap=pair.bootstrap.uri, bootstrap_hold_off=30)
        device = Device(config, clock=clock)
        assert device.tree.stored(0, 0, 11) == 30  # /0/0/11 Client Hold Off Time
        await device.start()
        try:
            await clock.advance(29.9)
            assert device.bootstrap is not None
            assert device.bootstrap.state is BootstrapState.HOLDING_OFF
            assert pair.bootstrap.counters["requests"] == 0
            done = next_event(device, Registered)
            await clock.advance(0.1)
            await asyncio.wait_for(done, WAIT)
            assert pair.bootstrap.counters["requests"] == 1
        finally:
            await device.stop()


async def test_refused_requests_are_retried_with_back_off_then_given_up() -> None:
    clock = ManualClock()
    async with bootstrap_pair(faults=[BootstrapFault("no-config")]) as pair:
        retry = RetryPolicy(retry_count=3, retry_timer=10, sequence_retry_count=1)
        config = DeviceConfig("refused", bootstrap=pair.bootstrap.uri, bootstrap_retry=retry)
        device = Device(config, clock=clock)
        seen: list[tuple[str, float | None, int]] = []
        try:
            for wait in (0.0, 10.0, 20.0):
                failed = next_event(device, BootstrapFailed)
                if wait == 0.0:
                    await device.start()
                await clock.advance(wait)
                event = await asyncio.wait_for(failed, WAIT)
                seen.append((event.reason, event.retry_in, event.attempt))
            assert seen == [
                ("answered 4.00", 10.0, 1),
                ("answered 4.00", 20.0, 2),
                ("answered 4.00", None, 3),
            ]
            assert device.bootstrap is not None and device.bootstrap.state is BootstrapState.FAILED
            assert pair.bootstrap.faults.fired() == {"no-config": 3}
        finally:
            await device.stop()


async def test_a_finish_that_never_comes_is_a_failed_attempt() -> None:
    clock = ManualClock()
    async with bootstrap_pair(faults=[BootstrapFault("fail-finish")]) as pair:
        retry = RetryPolicy(retry_count=2, retry_timer=5)
        config = DeviceConfig(
            "nofinish", bootstrap=pair.bootstrap.uri, bootstrap_timeout=50, bootstrap_retry=retry
        )
        device = Device(config, clock=clock)
        not_sent = pair.expect(EventKind.BOOTSTRAP_FINISH, "nofinish")
        await device.start()
        try:
            assert (await asyncio.wait_for(not_sent, WAIT)).code is None
            await asyncio.wait_for(pair.bootstrap.wait_for_sessions(), WAIT)
            assert pair.bootstrap.counters["failed"] == 1
            failed = next_event(device, BootstrapFailed)
            await clock.advance(50)
            event = await asyncio.wait_for(failed, WAIT)
            assert event.step == "Bootstrap-Finish"
            assert event.reason == "no Bootstrap-Finish within 50 s" and event.retry_in == 5.0
        finally:
            await device.stop()


async def test_the_bootstrap_account_is_purged_after_its_timeout() -> None:
    clock = ManualClock()
    async with bootstrap_pair() as pair:
        config = DeviceConfig("purge", bootstrap=pair.bootstrap.uri, values={"/0/0/12": 30})
        device = Device(config, clock=clock)
        done = next_event(device, Registered)
        await device.start()
        try:
            await asyncio.wait_for(done, WAIT)
            assert device.tree.instances(0) == [0, 1]
            await clock.advance(29)
            assert device.tree.instances(0) == [0, 1]
            await clock.advance(1)  # /0/0/12 Bootstrap-Server Account Timeout
            assert device.tree.instances(0) == [1]
        finally:
            await device.stop()


async def test_every_server_refusing_register_falls_back_to_bootstrap() -> None:
    clock = ManualClock()
    async with bootstrap_pair() as pair:
        retry = RetryPolicy(retry_count=3, retry_timer=10)
        config = DeviceConfig(
            "fallback",
            bootstrap=pair.bootstrap.uri,
            bootstrap_retry=retry,
            retry=RetryPolicy(retry_count=1, sequence_retry_count=1),
        )
        device = Device(config, clock=clock)
        refused = {"left": 1}

        def refuse(operation: str) -> Verdict | None:
            if operation == "Register" and refused["left"] > 0:
                refused["left"] -= 1
                return Verdict.answer("4.03")
            return None

        device.add_uplink_interceptor(refuse)
        log = Log()
        log.watch(device)
        failed = next_event(device, BootstrapFailed)
        await device.start()
        try:
            event = await asyncio.wait_for(failed, WAIT)
            # the written Server instance has no retry resources (/1/x/17..20): the configured
            # policy applies, and one refusal exhausts it; /1/x/16 absent means true
            assert device.tree.stored(1, 0, 16) is None
            assert event.step == "Register" and event.retry_in == 10.0
            assert device.state is RegistrationState.STOPPED
            registered = next_event(device, Registered)
            await clock.advance(10)
            await asyncio.wait_for(registered, WAIT)
            assert pair.bootstrap.counters["finished"] == 2
            assert len(log.of(BootstrapDone)) == 2
        finally:
            await device.stop()


@pytest.mark.parametrize("transport", ["udp", pytest.param("dtls", marks=requires_dtls)])
async def test_executing_bootstrap_request_trigger_bootstraps_again(transport: str) -> None:
    secure = transport == "dtls"
    async with bootstrap_pair(secure=secure) as pair:
        uri = pair.bootstrap.secure_uri if secure else pair.bootstrap.uri
        assert uri is not None
        psk = BOOTSTRAP_PSK.credentials(0, "trigger") if secure else None
        device = Device(DeviceConfig("trigger", bootstrap=uri, bootstrap_psk=psk))
        await device.start()
        try:
            await pair.server.wait_for_registration("trigger", WAIT)
            await asyncio.wait_for(device.registered.wait(), WAIT)
            deregistered = pair.server.expect(EventKind.DEREGISTRATION, endpoint="trigger")
            done = next_event(device, BootstrapDone)
            result = await pair.server.execute("trigger", "/1/0/9")
            assert result.code == "2.04"
            await asyncio.wait_for(deregistered, WAIT)
            await asyncio.wait_for(done, WAIT)
            await pair.server.wait_for_registration("trigger", WAIT)
            assert pair.bootstrap.counters["requests"] == 2
        finally:
            await device.stop()


async def test_server_initiated_bootstrap_of_a_registered_factory_device() -> None:
    async with bootstrap_pair(lifetime=444) as pair:
        config = DeviceConfig(
            "factory",
            server=pair.server.uri,
            lifetime=1000,
            bootstrap=pair.bootstrap.uri,
            factory_server=True,
        )
        device = Device(config)
        assert device.tree.instances(0) == [0, 1] and device.tree.stored(0, 1, 1) is True
        await device.start()
        try:
            first = await pair.server.wait_for_registration("factory", WAIT)
            assert first.lifetime == 1000 and pair.bootstrap.counters["requests"] == 0
            await asyncio.wait_for(device.registered.wait(), WAIT)
            done = next_event(device, BootstrapDone)
            registered = pair.server.expect(EventKind.REGISTRATION, endpoint="factory")
            address = device.address
            assert address is not None
            assert await asyncio.wait_for(pair.bootstrap.bootstrap("factory", address), WAIT)
            event = await asyncio.wait_for(done, WAIT)
            assert event.initiated == "server"
            again = await asyncio.wait_for(registered, WAIT)
            assert again.registration is not None and again.registration.lifetime == 444
            # the Bootstrap-Server Account (/0/1) was spared by the Delete of /0
            assert device.tree.stored(0, 1, 1) is True
        finally:
            await device.stop()
