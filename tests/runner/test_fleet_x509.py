"""A fleet run over DTLS with certificates against the in-process server: the fleet CA's
devices register, devices of another CA fail with "wrong CA" counted per cause, and no key
(device private keys, CA key) shows in the summary (JSON and text) or in the logs."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from pathlib import Path

import pytest

from fleet.client.fleet_ca import CA_KEY, FleetCa
from fleet.metrics import Operation
from fleet.metrics.report import render_summary
from fleet.runner.fleet import Fleet
from fleet.scenario import load_scenario
from fleet.server import Lwm2mServer

from ..client.x509.helpers import requires_x509

pytestmark = [pytest.mark.asyncio, requires_x509]


async def test_a_certificate_fleet_run_counts_wrong_ca_and_shows_no_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ca = FleetCa.create(tmp_path / "certs")
    FleetCa.create(tmp_path / "other", "other CA")
    caplog.set_level(logging.DEBUG)
    async with await Lwm2mServer.start(certificate=ca.server_credentials()) as server:
        (tmp_path / "s.yaml").write_text(
            f"""
version: 1
server: {server.secure_uri}
seed: 1
duration: 2s
groups:
  - name: fleet
    count: 4
    endpoint: "good-{{index}}"
    security: {{mode: x509, ca: certs}}
  - name: strangers
    count: 2
    endpoint: "bad-{{index}}"
    security: {{mode: x509, ca: other, server_ca: certs/ca.pem}}
phases:
  - {{duration: 1s, arrivalCount: 6}}
"""
        )
        scenario = load_scenario(tmp_path / "s.yaml")
        summary = await asyncio.wait_for(Fleet(scenario).run(), timeout=60)
    handshake = summary.operations[Operation.HANDSHAKE]
    assert handshake.failure_reasons.get("wrong CA (device certificate)", 0) >= 2
    register = summary.operations[Operation.REGISTER]
    assert register.count - register.failures >= 4  # the fleet CA's devices registered
    shown = json.dumps(summary.to_json()) + render_summary(summary) + caplog.text
    keys = [ca.device(f"good-{i}").key for i in range(4)]
    keys += [FleetCa.load(tmp_path / "other").device(f"bad-{i}").key for i in range(4, 6)]
    for key in keys:
        assert key.hex() not in shown and base64.b64encode(key).decode()[:24] not in shown
    for folder in ("certs", "other"):  # nor a line of a CA's private key
        lines = (tmp_path / folder / CA_KEY).read_text().splitlines()[1:-1]
        assert all(line not in shown for line in lines)
