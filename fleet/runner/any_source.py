"""``fleet run --any-source``: devices that answer requests from any address (test rigs).

A device answers only its LwM2M server (and its Bootstrap-Server): a datagram from any
other address is ignored (:attr:`~fleet.client.config.DeviceConfig.any_source`,
``docs/security.md``). A test rig that pokes the devices of a run with ``coap-client``
or a script wants them to answer it: :class:`AnySource` is a device factory that builds
every device with ``any_source`` set.
"""

from __future__ import annotations

import dataclasses

from fleet.client.config import DeviceConfig
from fleet.clock import Clock
from fleet.device.randomness import Rng
from fleet.runner.devices import DeviceFactory, DeviceLike, fleet_device


class AnySource:
    """A device factory: ``factory``'s devices, each answering any source address.

    Picklable when ``factory`` is (a module-level function), as worker processes need."""

    __slots__ = ("factory",)

    def __init__(self, factory: DeviceFactory = fleet_device) -> None:
        self.factory = factory

    def __call__(self, config: DeviceConfig, clock: Clock, rng: Rng) -> DeviceLike:
        if not config.any_source:
            config = dataclasses.replace(config, any_source=True)
        return self.factory(config, clock, rng)
