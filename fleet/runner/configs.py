"""What each device of a scenario is configured with: scenario + index -> DeviceConfig."""

from __future__ import annotations

from fleet.client.config import DeviceConfig
from fleet.scenario import Scenario


def device_config(scenario: Scenario, index: int) -> DeviceConfig:
    """The configuration of device ``index`` of ``scenario``."""
    group = scenario.group_of(index)
    return DeviceConfig(
        endpoint=group.endpoint(index),
        server=scenario.server.uri,
        lifetime=group.lifetime,
        binding=group.binding,
        lwm2m_version=group.lwm2m_version,
        content_format=group.content_format,
        layout=group.template,
        registry=scenario.registry,
        send_enabled=group.send_enabled,
        awake_time=group.awake_time,
    )
