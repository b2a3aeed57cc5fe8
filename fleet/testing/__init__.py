"""Virtual LwM2M devices and an LwM2M server as test fixtures (pytest plugin and plain async).

The pytest plugin is :mod:`fleet.testing.plugin` (entry point ``pytest11``); the user guide is
``docs/testing.md``. Without pytest: ``async with virtual_device("dev1", server=uri) as dev``.
"""

from fleet.testing.exchanges import (
    OPERATION_NAMES,
    Exchange,
    Expectation,
    ExpectationError,
    Fault,
    format_exchanges,
)
from fleet.testing.fleet import Fleet, fleet_configs, scenario_configs
from fleet.testing.sync import BackgroundLoop, SyncDevice, SyncObservation, SyncServer
from fleet.testing.virtual import VirtualDevice, device_config, virtual_device

__all__ = [
    "OPERATION_NAMES",
    "BackgroundLoop",
    "Exchange",
    "Expectation",
    "ExpectationError",
    "Fault",
    "Fleet",
    "SyncDevice",
    "SyncObservation",
    "SyncServer",
    "VirtualDevice",
    "device_config",
    "fleet_configs",
    "format_exchanges",
    "scenario_configs",
    "virtual_device",
]
