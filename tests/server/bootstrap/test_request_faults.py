"""The device's Bootstrap-Request on the wire and its faults (dropped, delayed), and the
/1/x/16 switch of the fall-back (LwM2M 1.1 Core 6.1.3: ``POST /bs?ep=..&pct=..``, ``pct``
since 1.1; E.2 /1/x/16 Bootstrap on Registration Failure)."""

from __future__ import annotations

import asyncio

import pytest

from fleet.client.bootstrap.driver import BootstrapState
from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.events import BootstrapFailed, RegistrationFailed
from fleet.client.registration import RegistrationState, RetryPolicy
from fleet.client.site import Verdict
from fleet.clock import ManualClock
from fleet.faults import FaultInjector, FaultPlan
from fleet.server.events import EventKind

from .helpers import bootstrap_pair
from .test_timing import next_event

pytestmark = pytest.mark.asyncio
WAIT = 10.0


async def test_the_request_names_the_endpoint_and_the_preferred_format() -> None:
    async with bootstrap_pair() as pair:
        devices = [
            Device(DeviceConfig("v11", bootstrap=pair.bootstrap.uri)),
            Device(DeviceConfig("v10", bootstrap=pair.bootstrap.uri, lwm2m_version="1.0")),
        ]
        seen = [pair.expect(EventKind.BOOTSTRAP_REQUEST, d.name) for d in devices]
        await asyncio.gather(*(d.start() for d in devices))
        try:
            v11, v10 = [await asyncio.wait_for(s, WAIT) for s in seen]
            assert (v11.code, v11.detail) == ("2.04", "pct=112")  # SenML CBOR, 1.1
            assert (v10.code, v10.detail) == ("2.04", "")  # no pct= before 1.1
        finally:
            await asyncio.gather(*(d.stop() for d in devices))


def injected(device: Device, spec: dict[str, object]) -> FaultInjector:
    injector = FaultInjector(FaultPlan.from_specs([spec]), seed=1, origin=device.clock.now())
    injector.install(device, 0)
    return injector


async def test_a_dropped_request_times_out_and_is_retried() -> None:
    clock = ManualClock()
    async with bootstrap_pair() as pair:
        retry = RetryPolicy(retry_count=2, retry_timer=30)
        config = DeviceConfig("dropped", bootstrap=pair.bootstrap.uri, bootstrap_retry=retry)
        device = Device(config, clock=clock)
        injector = injected(device, {"action": "drop", "operations": ["bootstrap"]})
        failed = next_event(device, BootstrapFailed)
        await device.start()
        try:
            await clock.advance(100)  # beyond CoAP's MAX_TRANSMIT_WAIT (93 s)
            event = await asyncio.wait_for(failed, WAIT)
            assert event.step == "Bootstrap-Request" and event.injected
            assert event.retry_in == 30.0
            assert pair.bootstrap.counters["requests"] == 0  # it never left the device
            assert injector.counter.by_label == {"drop bootstrap": 1}
        finally:
            injector.close()
            await device.stop()


async def test_a_delayed_request_leaves_late() -> None:
    clock = ManualClock()
    async with bootstrap_pair() as pair:
        device = Device(DeviceConfig("delayed", bootstrap=pair.bootstrap.uri), clock=clock)
        spec = {"action": "delay", "delay": "5s", "operations": ["bootstrap"]}
        injector = injected(device, spec)
        request = pair.expect(EventKind.BOOTSTRAP_REQUEST, "delayed")
        await device.start()
        try:
            await clock.advance(4.9)
            assert pair.bootstrap.counters["requests"] == 0
            await clock.advance(0.1)
            assert (await asyncio.wait_for(request, WAIT)).code == "2.04"
            assert injector.counter.by_label == {"delay bootstrap": 1}
        finally:
            injector.close()
            await device.stop()


async def test_bootstrap_on_registration_failure_false_means_no_fall_back() -> None:
    clock = ManualClock()
    async with bootstrap_pair() as pair:
        config = DeviceConfig(
            "stays",
            server=pair.server.uri,
            bootstrap=pair.bootstrap.uri,
            factory_server=True,
            values={"/1/0/16": False},
            retry=RetryPolicy(retry_count=1, sequence_retry_count=1),
        )
        device = Device(config, clock=clock)
        device.add_uplink_interceptor(
            lambda operation: Verdict.answer("4.03") if operation == "Register" else None
        )
        gave_up = next_event(device, RegistrationFailed)
        await device.start()
        try:
            event = await asyncio.wait_for(gave_up, WAIT)
            assert event.retry_in is None  # the retry policy is exhausted
            assert device.state is RegistrationState.FAILED
            assert device.bootstrap is not None and device.bootstrap.state is BootstrapState.IDLE
            await clock.advance(120)
            assert pair.bootstrap.counters["requests"] == 0
        finally:
            await device.stop()
