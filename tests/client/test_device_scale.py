"""Scale by construction: many devices in one process, nothing running while idle, bounded state."""

from __future__ import annotations

import asyncio
import random

import pytest

from fleet.client.coap import EndpointLimits
from fleet.client.config import DeviceConfig, profile_for
from fleet.client.device import Device
from fleet.client.registration import RegistrationState
from fleet.device import SHIPPED_LAYOUT

from .fakes import GET, WAIT, FakeServer, registered_device

pytestmark = pytest.mark.asyncio


@pytest.mark.slow
async def test_1000_devices_register_from_distinct_ports_with_no_idle_task(
    server: FakeServer,
) -> None:
    # The real loop clock: a Register lost in a burst is retransmitted as CoAP says.
    tasks_before = len(asyncio.all_tasks())
    config = {"layout": SHIPPED_LAYOUT, "lifetime": 600, "exchange_timeout": 30.0}
    devices = [
        Device(DeviceConfig(f"dev-{i:04d}", server=server.uri, **config), rng=random.Random(i))  # type: ignore[arg-type]
        for i in range(1000)
    ]
    try:
        assert len({id(d.profile) for d in devices}) == 1  # one shared template
        for start in range(0, 1000, 100):  # a ramp, as a fleet runner does it
            batch = devices[start : start + 100]
            for device in batch:
                await device.start()
            await asyncio.wait_for(asyncio.gather(*(d.registered.wait() for d in batch)), 60)
        assert all(d.state is RegistrationState.REGISTERED for d in devices)
        ports = {d.address for d in devices}
        assert len(ports) == 1000 and all(port is not None and port[1] for port in ports)
        assert len(server.clients) == 1000
        assert {c.address for c in server.clients.values()} == ports
        for _ in range(20):  # let the finished registration tasks be collected
            if len(asyncio.all_tasks()) == tasks_before:
                break
            await asyncio.sleep(0)
        assert len(asyncio.all_tasks()) == tasks_before  # no task per idle device
        assert all(d.registrar.registered_at is not None and not d.registrar.busy for d in devices)
        answers = await asyncio.gather(
            *(server.request(d.name, GET, "/3/0/0") for d in devices[::100])
        )
        assert {a.payload for a in answers} == {b"lwm2m-fleet"}
    finally:
        for start in range(0, 1000, 100):
            await asyncio.gather(*(d.stop() for d in devices[start : start + 100]))
    assert server.count("deregister") >= 1000 and not server.clients


async def test_per_exchange_state_stays_bounded_under_many_requests(server: FakeServer) -> None:
    limits = EndpointLimits(dedup_max_entries=32)
    async with registered_device(server, "busy", limits=limits) as device:
        endpoint = device.endpoint
        assert endpoint is not None
        tasks_before = len(asyncio.all_tasks())
        for batch in range(10):
            answers = await asyncio.wait_for(
                asyncio.gather(*(server.request("busy", GET, "/3/0") for _ in range(50))), WAIT
            )
            assert all(int(a.code) == 69 for a in answers)
            stats = endpoint.stats()
            assert stats.dedup_size <= 32, batch
            assert stats.exchanges == 0 and stats.outstanding == 0 and stats.observers == 0
        assert endpoint.stats().dedup_evicted >= 500 - 32
        assert len(asyncio.all_tasks()) == tasks_before
        assert device.has_observations() is False and not device.registrar.busy


async def test_a_layout_is_compiled_once_for_many_configs() -> None:
    configs = [DeviceConfig(f"d{i}", layout=SHIPPED_LAYOUT) for i in range(50)]
    assert len({id(profile_for(c)) for c in configs}) == 1
