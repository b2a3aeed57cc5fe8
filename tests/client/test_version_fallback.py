"""A server refusing the LwM2M version (4.12 Precondition Failed, Core 1.1 §6.2.1 "Register":
the server returns 4.12 for a version it does not support): reported as exactly that, and a
device given several versions registers again at once with the next one."""

from __future__ import annotations

import pytest

from fleet.client.config import ConfigError, DeviceConfig
from fleet.client.device import Device
from fleet.client.events import Registered, RegistrationFailed
from fleet.client.registration import RegistrationState
from fleet.clock import ManualClock
from fleet.codec import ContentFormat

from .fakes import EventLog, FakeServer, device_config

EP = "ver-1"
PRECONDITION_FAILED = 140


def _version(query: tuple[str, ...]) -> str:
    return next(part for part in query if part.startswith("lwm2m="))


@pytest.mark.asyncio
async def test_a_refused_version_falls_back_to_the_next(server: FakeServer) -> None:
    log = EventLog()
    config = device_config(server, EP, lwm2m_version="1.2", lwm2m_fallback=("1.1", "1.0"))
    device = Device(config, clock=ManualClock())
    device.add_listener(log)
    server.answer_next("register", PRECONDITION_FAILED, PRECONDITION_FAILED)
    await device.start()
    try:
        first = await server.next("register")
        refused = await log.next(RegistrationFailed)
        assert _version(first.query) == "lwm2m=1.2"
        assert refused.cause == "4.12 LwM2M 1.2 not supported"
        assert refused.reason == (
            "answered 4.12 Precondition Failed: the server refuses LwM2M 1.2; trying LwM2M 1.1"
        )
        second = await server.next("register")  # at once: no back-off for a version
        assert _version(second.query) == "lwm2m=1.1"
        await log.next(RegistrationFailed)
        third = await server.next("register")
        assert _version(third.query) == "lwm2m=1.0"
        assert (await log.next(Registered)).location
        assert device.config.lwm2m_version == "1.0" and device.config.lwm2m_fallback == ()
    finally:
        await device.stop(deregister=False)


@pytest.mark.asyncio
async def test_the_last_version_refused_is_a_named_failure_retried_with_back_off(
    server: FakeServer,
) -> None:
    log = EventLog()
    device = Device(device_config(server, EP, lwm2m_version="1.2"), clock=ManualClock())
    device.add_listener(log)
    server.answer_next("register", PRECONDITION_FAILED)
    await device.start()
    try:
        failed = await log.next(RegistrationFailed)
        assert failed.cause == "4.12 LwM2M 1.2 not supported"
        assert failed.reason == "answered 4.12 Precondition Failed: the server refuses LwM2M 1.2"
        assert failed.retry_in is not None and failed.retry_in > 0
        assert device.state is RegistrationState.WAITING_RETRY
    finally:
        await device.stop(deregister=False)


def test_the_versions_are_checked_together() -> None:
    with pytest.raises(ConfigError, match="each may be given once"):
        DeviceConfig("a", lwm2m_version="1.1", lwm2m_fallback=("1.1",))
    with pytest.raises(ConfigError, match=r"got '2\.0'"):
        DeviceConfig("a", lwm2m_version="1.1", lwm2m_fallback=("2.0",))
    with pytest.raises(ConfigError, match=r"senml-cbor \(112\) is not a data format of LwM2M 1.0"):
        DeviceConfig(
            "a",
            lwm2m_version="1.1",
            lwm2m_fallback=("1.0",),
            content_format=ContentFormat.SENML_CBOR,
        )


def test_a_scenario_group_takes_a_list_of_versions() -> None:
    from fleet.runner.configs import device_config
    from fleet.scenario import ScenarioErrors, load_scenario_text

    text = "version: 1\ngroups:\n  - count: 1\n    lwm2m_version: [1.2, 1.1]\n"
    scenario = load_scenario_text(text, file="s.yaml")
    config = device_config(scenario, 0)
    assert (config.lwm2m_version, config.lwm2m_fallback) == ("1.2", ("1.1",))
    with pytest.raises(ScenarioErrors) as caught:
        load_scenario_text(text.replace("[1.2, 1.1]", "[1.1, 1.1]"), file="s.yaml")
    assert caught.value.lines() == [
        "s.yaml:4:20: groups.0.lwm2m_version: each version may be given once"
    ]
    with pytest.raises(ScenarioErrors) as caught:
        load_scenario_text(text.replace("1.1]", "1.0]\n    format: senml-cbor"), file="s.yaml")
    assert "senml-cbor (112) is not a format of LwM2M 1.0" in caught.value.lines()[0]


def test_fleet_device_takes_a_list_of_versions() -> None:
    from click.testing import CliRunner

    from fleet.cli.device import device

    bad = CliRunner().invoke(device, ["--server", "coap://h", "--endpoint", "a", "--lwm2m", "1.3"])
    assert bad.exit_code == 2 and "'1.3': give 1.0, 1.1, 1.2, or several like 1.2,1.1" in bad.output
