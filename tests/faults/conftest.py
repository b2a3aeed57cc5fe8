"""Shared pieces of the fault tests: a ManualClock server with a few real devices."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest_asyncio

from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.clock import ManualClock
from fleet.device.generators import device_rng
from fleet.faults import FaultInjector, FaultPlan
from fleet.server import Lwm2mServer


class Rig:
    """A server and devices on one ManualClock; :meth:`add` starts devices (faults first)."""

    def __init__(self, clock: ManualClock, server: Lwm2mServer) -> None:
        self.clock, self.server = clock, server
        self.devices: list[Device] = []

    def injector(self, *specs: dict[str, Any], seed: int = 1) -> FaultInjector:
        return FaultInjector(FaultPlan.from_specs(list(specs)), seed=seed, origin=self.clock.now())

    async def add(
        self,
        count: int,
        *,
        install: Callable[[Device, int], None] | None = None,
        wait: bool = True,
        lifetime: int = 300,
        any_source: bool = False,
    ) -> list[Device]:
        made = []
        for _ in range(count):
            index = len(self.devices)
            config = DeviceConfig(
                f"dev{index}", server=f"coap://127.0.0.1:{self.server.address[1]}",
                lifetime=lifetime, any_source=any_source,
            )  # fmt: skip
            device = Device(config, clock=self.clock, rng=device_rng(1, index, "coap"))
            self.devices.append(device)
            if install is not None:
                install(device, index)
            await device.start()
            made.append(device)
        if wait:
            for device in made:
                await self.server.wait_for_registration(device.name, 5.0)
        return made


@pytest_asyncio.fixture
async def rig() -> AsyncIterator[Rig]:
    clock = ManualClock()
    server = await Lwm2mServer.start(clock=clock)
    made = Rig(clock, server)
    try:
        yield made
    finally:
        for device in made.devices:
            await device.stop(deregister=False)
        await server.stop()
