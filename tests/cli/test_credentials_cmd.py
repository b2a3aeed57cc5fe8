"""``fleet credentials init`` and ``fleet credentials export``: a fleet CA folder, devices
minted for a scenario, and every device's credentials in each platform's shape (CSV, JSON);
the output file is its owner's only; certificates for d2c are refused with the reason."""

from __future__ import annotations

import csv
import io
import json
import os
import pathlib
import stat

import pytest
from click.testing import CliRunner

from fleet.cli import main
from fleet.client.fleet_ca import CACHE_FILE, FleetCa

from ..client.x509.helpers import requires_x509

SCENARIO = """\
version: 1
server: coaps://127.0.0.1:5684
groups:
  - name: certs
    count: 3
    endpoint: "sim-{index:06d}"
    security:
      mode: x509
      ca: certs
  - name: psk
    count: 2
    endpoint: "psk-{index}"
    security:
      identity: "id-{index}"
      key: "hex:00112233{index:024x}"
"""

pytestmark = requires_x509


@pytest.fixture
def folder(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.yaml").write_text(SCENARIO)
    result = CliRunner().invoke(main, ["credentials", "init", "certs", "--scenario", "s.yaml"])
    assert result.exit_code == 0, result.output
    assert "3 device certificates minted for s.yaml" in result.output
    return tmp_path


def _export(*args: str) -> str:
    result = CliRunner().invoke(main, ["credentials", "export", "s.yaml", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_init_makes_a_ca_once(folder: pathlib.Path) -> None:
    assert (folder / "certs" / CACHE_FILE).is_file()
    again = CliRunner().invoke(main, ["credentials", "init", "certs"])
    assert again.exit_code == 1 and "a fleet CA is there already" in again.output


def test_generic_csv_lists_every_device(folder: pathlib.Path) -> None:
    rows = list(csv.DictReader(io.StringIO(_export())))
    assert [r["endpoint"] for r in rows] == [
        "sim-000000", "sim-000001", "sim-000002", "psk-3", "psk-4",
    ]  # fmt: skip
    import base64

    ca = FleetCa.load(folder / "certs")
    assert rows[0]["mode"] == "x509" and rows[0]["key"] == ""  # the private key stays home
    assert base64.b64decode(rows[0]["certificate"]) == ca.device("sim-000000").certificate
    assert rows[3] == {
        "endpoint": "psk-3",
        "mode": "psk",
        "identity": "id-3",
        "key": "00112233000000000000000000000003",
        "certificate": "",
    }


def test_leshan_json(folder: pathlib.Path) -> None:
    entries = json.loads(_export("--format", "json", "--for", "leshan"))
    assert entries[0] == {"endpoint": "sim-000000", "tls": {"mode": "x509", "details": {}}}
    assert entries[4] == {
        "endpoint": "psk-4",
        "tls": {
            "mode": "psk",
            "details": {"identity": "id-4", "key": "00112233000000000000000000000004"},
        },
    }


def test_thingsboard_csv_and_json(folder: pathlib.Path) -> None:
    rows = list(csv.DictReader(io.StringIO(_export("--for", "thingsboard"))))
    assert rows[3]["lwm2m_client_security_config_mode"] == "PSK"
    assert rows[3]["lwm2m_client_identity"] == "id-3" and rows[3]["name"] == "psk-3"
    assert rows[0]["lwm2m_client_security_config_mode"] == "X509"
    assert rows[0]["lwm2m_client_cert"].startswith("MII")
    bodies = json.loads(_export("--format", "json", "--for", "thingsboard"))
    value = json.loads(bodies[3]["credentials"]["credentialsValue"])
    assert bodies[3]["credentials"]["credentialsType"] == "LWM2M_CREDENTIALS"
    assert value["client"] == {
        "securityConfigClientMode": "PSK",
        "endpoint": "psk-3",
        "identity": "id-3",
        "key": "00112233000000000000000000000003",
    }


def test_d2c_takes_psk_only(folder: pathlib.Path) -> None:
    refused = CliRunner().invoke(main, ["credentials", "export", "s.yaml", "--for", "d2c"])
    assert refused.exit_code == 1
    assert "device sim-000000: --for d2c exports pre-shared keys only" in refused.output
    text = SCENARIO.split("  - name: certs")[0] + "  - name: psk" + SCENARIO.split("- name: psk")[1]
    (folder / "s.yaml").write_text(text)
    nodes = json.loads(_export("--format", "json", "--for", "d2c"))
    assert nodes[0]["node"]["credentials"][0] == {
        "resourceName": "credentials",
        "mgmtDefinition": 1029,
        "credentialID": "id-0",
        "credentialSecret": "00112233000000000000000000000000",
    }


def test_output_file_is_the_owners_only(folder: pathlib.Path) -> None:
    result = CliRunner().invoke(main, ["credentials", "export", "s.yaml", "-o", "out.csv"])
    assert result.exit_code == 0
    assert stat.S_IMODE(os.stat(folder / "out.csv").st_mode) == 0o600
    assert "psk-4" in (folder / "out.csv").read_text()


def test_a_scenario_without_security_has_nothing_to_export(folder: pathlib.Path) -> None:
    (folder / "s.yaml").write_text("version: 1\ngroups:\n  - count: 1\n")
    result = CliRunner().invoke(main, ["credentials", "export", "s.yaml"])
    assert result.exit_code == 1 and "no group has security:" in result.output
