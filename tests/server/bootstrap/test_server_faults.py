"""Faults of the embedded Bootstrap-Server: a failing Write, a slow server, and the seeded
draws behind every fault's probability (LwM2M 1.1 Core 5.2.7.4: a Bootstrap-Write the
client cannot decode is answered 4.00; the session then ends without Finish and the
client's own wait for Finish runs out)."""

from __future__ import annotations

import asyncio

import pytest

from fleet.client.bootstrap.configs import ServerAccountSpec, single
from fleet.client.bootstrap.driver import NO_FINISH, BootstrapState
from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.events import BootstrapFailed, Registered
from fleet.client.registration import RetryPolicy
from fleet.clock import ManualClock
from fleet.server import Lwm2mServer
from fleet.server.bootstrap import BootstrapServer
from fleet.server.bootstrap.faults import BootstrapFault, BootstrapFaultError, BootstrapFaults
from fleet.server.events import EventKind, ServerEvent

from .helpers import bootstrap_pair
from .test_timing import next_event

WAIT = 10.0


@pytest.mark.asyncio
async def test_a_failing_write_ends_the_session_and_the_device_retries() -> None:
    clock = ManualClock()
    async with bootstrap_pair(faults=[BootstrapFault("fail-write")]) as pair:
        retry = RetryPolicy(retry_count=2, retry_timer=5)
        config = DeviceConfig(
            "badwrite", bootstrap=pair.bootstrap.uri, bootstrap_timeout=30, bootstrap_retry=retry
        )
        device = Device(config, clock=clock)
        refused = pair.expect(EventKind.BOOTSTRAP_WRITE, "badwrite")
        await device.start()
        try:
            event = await asyncio.wait_for(refused, WAIT)
            assert event.code == "4.00"  # the device could not decode it
            await asyncio.wait_for(pair.bootstrap.wait_for_sessions(), WAIT)
            kinds = [kind for kind, _, _ in pair.steps("badwrite")]
            assert "bootstrap-finish" not in kinds and kinds.count("bootstrap-write") == 1
            assert pair.bootstrap.counters["failed"] == 1
            assert pair.bootstrap.faults.fired() == {"fail-write": 1}
            assert device.bootstrap is not None
            assert device.bootstrap.state is BootstrapState.WAITING
            failed = next_event(device, BootstrapFailed)
            await clock.advance(30)
            failure = await asyncio.wait_for(failed, WAIT)
            assert failure.cause == NO_FINISH and not failure.injected  # the server's doing
        finally:
            await device.stop()


@pytest.mark.asyncio
async def test_a_slow_server_waits_before_its_first_operation() -> None:
    clock = ManualClock()
    async with await Lwm2mServer.start(clock=clock) as server:
        faults = BootstrapFaults((BootstrapFault("slow", seconds=20),), seed=1)
        configs = single([ServerAccountSpec(server.uri)])
        bootstrap = await BootstrapServer.start(configs, clock=clock, faults=faults)
        seen: list[ServerEvent] = []
        bootstrap._bus.listen(seen.append)
        device = Device(DeviceConfig("slowpoke", bootstrap=bootstrap.uri), clock=clock)
        accepted = bootstrap._bus.expect(EventKind.BOOTSTRAP_REQUEST, endpoint="slowpoke")
        registered = next_event(device, Registered)
        try:
            await device.start()
            assert (await asyncio.wait_for(accepted, WAIT)).code == "2.04"
            await clock.advance(19.9)
            assert [e.kind for e in seen] == [EventKind.BOOTSTRAP_REQUEST]
            await clock.advance(0.1)
            await asyncio.wait_for(registered, WAIT)
            assert faults.fired() == {"slow": 1}
            assert bootstrap.finished == {"slowpoke": 1}
        finally:
            await device.stop()
            await bootstrap.stop()


def test_fault_draws_are_seeded_per_endpoint_and_counted() -> None:
    def draws(seed: int) -> list[bool]:
        faults = BootstrapFaults((BootstrapFault("fail-finish", "m-*", 0.5),), seed=seed)
        decided = [faults.failing_finish(f"m-{i}") for i in range(40)]
        assert faults.fired() == ({"fail-finish": sum(decided)} if any(decided) else {})
        return decided

    first = draws(7)
    assert draws(7) == first  # the same seed replays
    assert draws(8) != first  # another seed draws anew
    assert 5 < sum(first) < 35  # about half
    other = BootstrapFaults((BootstrapFault("fail-finish", "m-*"),), seed=1)
    assert not other.failing_finish("x-1")  # outside the pattern
    with pytest.raises(BootstrapFaultError, match="needs seconds > 0"):
        BootstrapFault("slow")
    with pytest.raises(BootstrapFaultError, match="is not one of"):
        BootstrapFault("explode")
