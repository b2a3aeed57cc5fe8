"""The behaviours of the shipped objects, by object id."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from fleet.device.behaviour import Behaviour
from fleet.device.core_objects import (
    DeviceBehaviour,
    LocationBehaviour,
    SecurityBehaviour,
    ServerBehaviour,
)
from fleet.device.firmware.connectivity import ConnectivityBehaviour
from fleet.device.firmware.objects import FirmwareBehaviour
from fleet.device.firmware.software import SoftwareBehaviour
from fleet.device.interop_object import TestObjectBehaviour
from fleet.device.sensors import TemperatureBehaviour

SHIPPED_BEHAVIOURS: Final[Mapping[int, Behaviour]] = MappingProxyType(
    {
        b.object_id: b
        for b in (
            SecurityBehaviour(),
            ServerBehaviour(),
            DeviceBehaviour(),
            ConnectivityBehaviour(),
            FirmwareBehaviour(),
            SoftwareBehaviour(),
            LocationBehaviour(),
            TemperatureBehaviour(),
            TestObjectBehaviour(),
        )
    }
)
"""Security 0, Server 1, Device 3, Connectivity Monitoring 4, Firmware Update 5, Location 6,
Software Management 9, Temperature 3303, Test Object 3442."""
