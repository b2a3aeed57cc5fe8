"""One process holds 1,000 registered Devices against the embedded server (marked slow).

Every device registers from its own UDP port, the server lists all of them, nothing runs per
idle device (no asyncio task left once the registrations are done), and all de-register.
The real loop clock: a Register lost in the burst is retransmitted as CoAP says.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.registration import RegistrationState
from fleet.device import SHIPPED_LAYOUT
from fleet.server import Lwm2mServer

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

COUNT = 1000
BATCH = 100
BATCH_WAIT = 60.0


async def settle(before: int) -> int:
    """Tasks left after letting finished ones be collected (a bounded number of loop turns)."""
    for _ in range(50):
        if len(asyncio.all_tasks()) <= before:
            break
        await asyncio.sleep(0)
    return len(asyncio.all_tasks())


async def test_1000_devices_registered_with_the_embedded_server() -> None:
    async with await Lwm2mServer.start(request_timeout=10.0) as server:
        tasks_before = len(asyncio.all_tasks())
        devices = [
            Device(
                DeviceConfig(
                    f"fleet-{i:04d}",
                    server=server.uri,
                    layout=SHIPPED_LAYOUT,
                    lifetime=600,
                    exchange_timeout=30.0,
                ),
                rng=random.Random(i),
            )
            for i in range(COUNT)
        ]
        try:
            for start in range(0, COUNT, BATCH):
                batch = devices[start : start + BATCH]
                for device in batch:
                    await device.start()
                await asyncio.wait_for(
                    asyncio.gather(*(d.registered.wait() for d in batch)), BATCH_WAIT
                )
            assert all(d.state is RegistrationState.REGISTERED for d in devices)
            registrations = server.registrations()
            assert {r.endpoint for r in registrations} == {d.name for d in devices}
            ports = {d.address for d in devices}
            assert len(ports) == COUNT and None not in ports
            assert {r.address for r in registrations} == ports
            assert await settle(tasks_before) == tasks_before  # no task per idle device
            sample = devices[:: COUNT // 10]
            reads = await asyncio.gather(*(server.read(d.name, "/3/0/0") for d in sample))
            assert [r.value for r in reads] == ["lwm2m-fleet"] * len(sample)
        finally:
            for start in range(0, COUNT, BATCH):
                await asyncio.wait_for(
                    asyncio.gather(*(d.stop() for d in devices[start : start + BATCH])),
                    BATCH_WAIT,
                )
        assert server.registrations() == []
        assert server.counters.deregistrations == COUNT
        assert all(d.endpoint is None for d in devices)
        assert await settle(tasks_before) == tasks_before
