"""Several virtual devices at once, from inline parameters or a scenario file.

``Fleet`` starts its devices together, waits for all of them, verifies all of their
expectations and stops them. :func:`fleet_configs` names devices with a pattern
(``"meter-{index}"``); :func:`scenario_configs` takes the groups of a scenario file
(:mod:`fleet.scenario`: endpoints, LwM2M version, lifetime, binding, format, objects), pointing
them at the given server instead of the file's. Value generators of the file are not run.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from fleet.client.config import DeviceConfig
from fleet.clock import Clock
from fleet.device.layout import DeviceLayout
from fleet.runner.configs import device_config
from fleet.scenario import load_scenario
from fleet.testing.exchanges import Exchange, ExpectationError
from fleet.testing.virtual import VirtualDevice, layout_of


def fleet_configs(
    count: int,
    *,
    server: str,
    endpoint: str = "fleet-{index}",
    values: Mapping[str, object] | None = None,
    objects: Mapping[int, Iterable[int]] | DeviceLayout | None = None,
    lwm2m: str = "1.1",
    **config: Any,
) -> list[DeviceConfig]:
    """``count`` configs named ``endpoint.format(index=i)`` for i in 0..count-1."""
    if count < 1:
        raise ValueError("a fleet has at least one device")
    names = [endpoint.format(index=index) for index in range(count)]
    if len(set(names)) != count:
        raise ValueError(f"endpoint pattern {endpoint!r} does not give distinct names")
    layout = layout_of(objects)
    return [
        DeviceConfig(
            endpoint=name,
            server=server,
            values=dict(values or {}),
            layout=layout,
            lwm2m_version=lwm2m,
            **config,
        )
        for name in names
    ]


def scenario_configs(file: str | os.PathLike[str], *, server: str) -> list[DeviceConfig]:
    """One config per device of the scenario file's groups, registering with ``server``."""
    scenario = load_scenario(file)
    return [
        device_config(scenario, index, server=server)
        for group in scenario.groups
        for index in group.indexes
    ]


class Fleet:
    """Virtual devices started, checked and stopped together."""

    def __init__(self, configs: Iterable[DeviceConfig], *, clock: Clock | None = None) -> None:
        self.devices = [VirtualDevice(config, clock=clock) for config in configs]
        self._by_name = {device.endpoint: device for device in self.devices}

    def __repr__(self) -> str:
        return f"<Fleet of {len(self.devices)}>"

    def __len__(self) -> int:
        return len(self.devices)

    def __iter__(self) -> Iterator[VirtualDevice]:
        return iter(self.devices)

    def __getitem__(self, key: int | str) -> VirtualDevice:
        """A device by position or by endpoint name."""
        return self._by_name[key] if isinstance(key, str) else self.devices[key]

    @property
    def endpoints(self) -> list[str]:
        return [device.endpoint for device in self.devices]

    @property
    def requests(self) -> dict[str, list[Exchange]]:
        """Each device's log, by endpoint."""
        return {device.endpoint: device.requests for device in self.devices}

    async def start(self, *, wait: bool = True, timeout: float = 10.0) -> Fleet:
        try:
            for device in self.devices:
                await device.device.start()
            if wait:
                await self.wait_registered(timeout)
        except BaseException:
            await asyncio.gather(*(device.stop(deregister=False) for device in self.devices))
            raise
        return self

    async def wait_registered(self, timeout: float = 10.0) -> None:
        """Return once every device is registered (``timeout`` real seconds for all)."""
        results = await asyncio.gather(
            *(device.wait_registered(timeout) for device in self.devices), return_exceptions=True
        )
        late = [device.endpoint for device, r in zip(self.devices, results, strict=True) if r]
        if late:
            raise ExpectationError(
                f"{len(late)} of {len(self.devices)} devices did not register within "
                f"{timeout:g} s: {', '.join(late[:10])}{' ...' if len(late) > 10 else ''}"
            )

    async def verify(self) -> None:
        """Every device's :meth:`~VirtualDevice.verify`; one error listing all failures."""
        failures: list[str] = []
        for device in self.devices:
            try:
                await device.verify()
            except ExpectationError as error:
                failures.append(str(error))
        if failures:
            raise ExpectationError("\n".join(failures))

    async def stop(self) -> None:
        await asyncio.gather(*(device.stop() for device in self.devices))
