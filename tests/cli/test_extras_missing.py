"""The DTLS extra missing is one clear line at start, never a handshake failure per device."""

from __future__ import annotations

import pathlib

import pytest
from click.testing import CliRunner

import fleet.runner.extras as extras
from fleet.cli.device import device
from fleet.cli.run import run
from fleet.cli.scenario import validate
from fleet.runner.extras import missing_extras
from fleet.scenario import load_scenario, load_scenario_text

ROOT = pathlib.Path(__file__).resolve().parents[2]
DTLS_SCENARIO = ROOT / "scenarios" / "dtls-psk.yaml"
WHY = "DTLS needs the optional DTLSSocket package (No module named 'DTLSSocket'): pip install"


@pytest.fixture
def no_dtls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extras, "dtls_available", lambda: WHY)


@pytest.mark.usefixtures("no_dtls")
def test_fleet_run_refuses_with_one_line() -> None:
    result = CliRunner().invoke(run, [str(DTLS_SCENARIO), "-q", "--workers", "1"])
    assert result.exit_code == 1
    assert result.output == f"cannot run: {WHY}\n"  # once for the fleet, not per device


@pytest.mark.usefixtures("no_dtls")
def test_fleet_validate_says_it_once_and_the_file_stays_valid() -> None:
    result = CliRunner().invoke(validate, [str(DTLS_SCENARIO)])
    assert result.exit_code == 0
    assert result.output.splitlines()[1:] == [
        f"{DTLS_SCENARIO}: this machine cannot run it yet: {WHY}"
    ]


@pytest.mark.usefixtures("no_dtls")
def test_fleet_device_refuses_with_one_line() -> None:
    arguments = ["--server", "coaps://127.0.0.1:1", "--endpoint", "a"]
    arguments += ["--psk-identity", "a", "--psk-key", "00112233445566778899aabbccddeeff"]
    result = CliRunner().invoke(device, arguments)
    assert result.exit_code == 1 and result.output == f"Error: {WHY}\n"


@pytest.mark.usefixtures("no_dtls")
def test_a_plain_coap_scenario_needs_nothing() -> None:
    assert missing_extras(load_scenario_text("version: 1\ngroups: [{count: 2}]\n")) == []
    assert missing_extras(load_scenario(DTLS_SCENARIO)) == [WHY]


BOOTSTRAP_SCENARIO = ROOT / "scenarios" / "bootstrap-storm.yaml"  # coap:// server, coaps:// BS


@pytest.mark.usefixtures("no_dtls")
def test_a_coaps_bootstrap_server_needs_dtls_too() -> None:
    scenario = load_scenario(BOOTSTRAP_SCENARIO)
    assert scenario.server.scheme == "coap"  # only the bootstrap of one group is secure
    assert missing_extras(scenario) == [WHY]
    ran = CliRunner().invoke(run, [str(BOOTSTRAP_SCENARIO), "-q", "--workers", "1"])
    assert (ran.exit_code, ran.output) == (1, f"cannot run: {WHY}\n")
    checked = CliRunner().invoke(validate, [str(BOOTSTRAP_SCENARIO)])
    assert checked.exit_code == 0
    assert checked.output.splitlines()[1:] == [
        f"{BOOTSTRAP_SCENARIO}: this machine cannot run it yet: {WHY}"
    ]
