"""The group key ``firmware:`` and the ``firmware-*`` fault actions: each mistake with its
file:line:col, and what a good entry gives the devices."""

from __future__ import annotations

import pathlib

from fleet.client.coap.psk import PskCredentials
from fleet.client.firmware.settings import LINK_SPEEDS
from fleet.runner.configs import device_config
from tests.scenario.conftest import Load, Problems

HEAD = """
version: 1
groups:
  - name: meters
    count: 10
"""


def test_a_good_firmware_entry_reaches_the_devices(load: Load) -> None:
    scenario = load(
        HEAD
        + """    firmware:
      link_speed: nb-iot
      storage: 256KiB
      package_types: [fleet, meter]
      on_loss: restart
      retries: 2
      retry_delay: 10s
      update_duration: 1m
      deregister: false
faults:
  - {action: firmware-lose, at: 0.25, fraction: 0.5}
"""
    )
    group = scenario.groups[0]
    assert 5 in group.layout.objects  # added for the firmware key
    config = device_config(scenario, 3, server="coap://127.0.0.1:5683")
    firmware = config.firmware
    assert firmware is not None
    assert (firmware.link_speed, firmware.storage) == (LINK_SPEEDS["nb-iot"], 256 * 1024)
    assert firmware.package_types == frozenset({"fleet", "meter"})
    assert (firmware.on_loss, firmware.retries, firmware.retry_delay) == ("restart", 2, 10.0)
    assert (firmware.update_duration, firmware.deregister) == (60.0, False)
    fault = scenario.faults[0]
    assert (fault.action, fault.at, fault.firmware) == ("firmware-lose", 0.25, True)


def test_firmware_mistakes(problems: Problems) -> None:
    lines = problems(
        HEAD
        + """    firmware:
      link_speed: fast
      storage: 12 parsecs
      on_loss: retry
"""
    )
    assert lines == [
        "s.yaml:6:19: groups.0.firmware.link_speed: expected bytes per second or one of "
        "nb-iot, lte-m, gprs, lte, got 'fast'",
        "s.yaml:7:16: groups.0.firmware.storage: expected a size like 262144, 256KiB or 1MiB, "
        "got '12 parsecs'",
        "s.yaml:8:16: groups.0.firmware.on_loss must be one of resume, restart, fail, got text "
        "'retry'; did you mean 'restart'?",
    ]


def test_firmware_fault_mistakes(problems: Problems) -> None:
    lines = problems(
        HEAD
        + """faults:
  - {action: firmware-hang, window: {start: 1m}}
  - {action: firmware-integrity, at: 0.5}
  - {action: firmware-lose, at: 1}
  - {action: firmware-brick, paths: ["/5/0/2"]}
"""
    )
    assert len(lines) == 4, lines
    assert "firmware-hang holds for the whole run (it takes no window)" in lines[0]
    assert "only firmware-lose and software-lose take at, not firmware-integrity" in lines[1]
    assert "faults.2.at" in lines[2] and "below 1" in lines[2]
    assert "firmware-brick acts on the whole device, not on requests" in lines[3]


def test_download_protocols_credentials_and_ca(load: Load, tmp_path: pathlib.Path) -> None:
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    scenario = load(
        HEAD
        + """    firmware:
      protocols: [coap, https]
      download_psk: {identity: fw-files, key: 66772d6b6579}
      https_ca: ca.pem
faults:
  - {action: software-lose, at: 0.3, devices: ["0-4"]}
  - {action: software-fail-install, devices: ["5-9"]}
  - {action: firmware-integrity, devices: ["0-9"]}
"""
    )
    firmware = device_config(scenario, 0, server="coap://127.0.0.1:5683").firmware
    assert firmware is not None
    assert firmware.protocols == frozenset({0, 3})
    assert firmware.download_psk == PskCredentials(b"fw-files", b"fw-key")
    assert firmware.https_ca == str(tmp_path / "ca.pem")
    actions = [(f.action, f.at, f.firmware) for f in scenario.faults]
    assert actions[:2] == [("software-lose", 0.3, True), ("software-fail-install", 0.5, True)]


def test_download_key_mistakes(problems: Problems) -> None:
    lines = problems(
        HEAD
        + """    firmware:
      protocols: [coap, ftp]
      download_psk: {identity: fw-files}
      https_ca: missing.pem
faults:
  - {action: software-hang, window: {start: 1m}}
  - {action: software-integrity, at: 0.5}
"""
    )
    assert len(lines) == 5, lines
    assert "groups.0.firmware.protocols.1 must be one of coap, coaps, http, https" in lines[0]
    assert "groups.0.firmware.download_psk is missing 'identity'" not in lines[1]
    assert "download_psk" in lines[1] and "'key'" in lines[1]
    assert "groups.0.firmware.https_ca: no CA file 'missing.pem'" in lines[2]
    assert "software-hang holds for the whole run (it takes no window)" in lines[3]
    assert "only firmware-lose and software-lose take at, not software-integrity" in lines[4]
