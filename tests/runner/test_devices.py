"""The fleet's default device: real devices with a smaller NON-notification memory."""

from __future__ import annotations

import dataclasses
import random

from fleet.client.coap.params import EndpointLimits
from fleet.client.config import DeviceConfig
from fleet.clock import ManualClock
from fleet.runner.devices import FLEET_NON_NOTIFICATIONS, fleet_device, fleet_limits


def test_limits_keeping_more_are_cut_and_the_result_is_shared() -> None:
    wide = EndpointLimits(max_non_notifications=64, dedup_max_entries=100)
    cut = fleet_limits(wide)
    assert cut.max_non_notifications == FLEET_NON_NOTIFICATIONS
    assert dataclasses.replace(cut, max_non_notifications=64) == wide  # nothing else changed
    assert fleet_limits(EndpointLimits(max_non_notifications=64, dedup_max_entries=100)) is cut
    narrow = EndpointLimits(max_non_notifications=4)
    assert fleet_limits(narrow) is narrow


def test_fleet_device_is_a_real_device_with_the_fleet_limits() -> None:
    config = DeviceConfig("d1", server="coap://127.0.0.1:5683")
    assert config.limits.max_non_notifications > FLEET_NON_NOTIFICATIONS
    device = fleet_device(config, ManualClock(), random.Random(1))
    assert device.name == "d1"
    assert device.config.limits.max_non_notifications == FLEET_NON_NOTIFICATIONS  # type: ignore[attr-defined]
    assert device.config.endpoint == config.endpoint  # type: ignore[attr-defined]
