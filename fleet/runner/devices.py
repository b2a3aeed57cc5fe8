"""The devices a shard runs: what it needs of one (:class:`DeviceLike`), the factories.

:func:`client_device` builds a real device; :func:`fleet_device`, what ``fleet run`` uses,
adds per-device memory bounds for fleets.

A device keeps, among other bounded state, the message ids of its recent
non-confirmable notifications so that a Reset from the server can end the
right observation (``EndpointLimits.max_non_notifications``, 64 by default).
Each entry costs about 160 bytes, so an observed device grows by ~10 KiB in
its first 64 notifications — as much as half of what the device costs
otherwise, and at 20,000 devices a 50 % RSS growth during a run. A Reset
answers a notification within a round trip, so the fleet keeps the last
:data:`FLEET_NON_NOTIFICATIONS` instead: enough for a Reset to any of 8
notifications sent at the same moment (8 observations with the same pmax) and
answered a round trip later. ``bench/bench_notify.py``: 20,000 devices at
pmin=pmax=10 s grew 49 % in 10 minutes with 64, 15 % with 16 and 7 % with 8
(flat from the second minute on: the memory fills, then stays).

:func:`fleet_device` applies that (to configurations keeping more) and builds
the real device (:func:`client_device`). The adjusted
limits object is shared by every device with the same original one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Final, Protocol

from fleet.client.coap.params import EndpointLimits
from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.events import ClientListener
from fleet.client.registration import RegistrationState
from fleet.clock import Clock
from fleet.device.randomness import Rng
from fleet.model.path import Path


class DeviceLike(Protocol):
    """What the shard needs of a device (:class:`~fleet.client.device.Device`)."""

    @property
    def name(self) -> str: ...

    @property
    def state(self) -> RegistrationState: ...

    def set_value(self, path: Path, value: object) -> None: ...

    async def start(self) -> None: ...

    async def stop(self, *, deregister: bool = True) -> None: ...

    def add_listener(self, listener: ClientListener) -> None: ...


DeviceFactory = Callable[[DeviceConfig, Clock, Rng], DeviceLike]


class _ClientDevice(Device):
    """The real device, with ``set_value`` on its tree (what :class:`DeviceLike` asks)."""

    __slots__ = ()

    def set_value(self, path: Path, value: object) -> None:
        self.tree.set_value(path, value)


def client_device(config: DeviceConfig, clock: Clock, rng: Rng) -> DeviceLike:
    """The default factory: a real :class:`~fleet.client.device.Device`."""
    return _ClientDevice(config, clock=clock, rng=rng)


FLEET_NON_NOTIFICATIONS: Final = 8
"""Recent NON notifications each fleet device remembers to match a Reset."""

_adjusted: dict[EndpointLimits, EndpointLimits] = {}


def fleet_limits(limits: EndpointLimits) -> EndpointLimits:
    """``limits`` with at most :data:`FLEET_NON_NOTIFICATIONS` (one shared object per input)."""
    if limits.max_non_notifications <= FLEET_NON_NOTIFICATIONS:
        return limits
    found = _adjusted.get(limits)
    if found is None:
        found = _adjusted[limits] = dataclasses.replace(
            limits, max_non_notifications=FLEET_NON_NOTIFICATIONS
        )
    return found


def fleet_device(config: DeviceConfig, clock: Clock, rng: Rng) -> DeviceLike:
    """The default device of ``fleet run``: a real device with :func:`fleet_limits`."""
    limits = fleet_limits(config.limits)
    if limits is not config.limits:
        config = dataclasses.replace(config, limits=limits)
    return client_device(config, clock, rng)
