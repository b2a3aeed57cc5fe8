"""A fleet run over DTLS-PSK against libcoap counts why handshakes failed (issues 14, 21):
a server that answers with an alert is ``DTLS alert 40 (handshake_failure) received``, a
wrong key (no alert ever comes back, tests/client/dtls/test_alert_or_timeout.py) is
``handshake timeout``, in the summary, its JSON (read back) and its text."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from fleet.client.config import DeviceConfig
from fleet.client.fleet_ca import SERVER_FILE, SERVER_KEY, FleetCa
from fleet.clock import Clock
from fleet.device.randomness import Rng
from fleet.metrics import Operation, Summary
from fleet.metrics.report import render_summary
from fleet.runner.devices import DeviceLike, fleet_device
from fleet.runner.fleet import Fleet
from fleet.scenario import load_scenario

from ..client.dtls.helpers import free_port_pair, libcoap_server, requires_dtls

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.interop,
    requires_dtls,
    pytest.mark.skipif(not shutil.which("coap-server-openssl"), reason="scripts/install-tools.sh"),
]

DEVICES = 3


def _short_handshakes(config: DeviceConfig, clock: Clock, rng: Rng) -> DeviceLike:
    """The fleet's device with a 1 s handshake timeout (the default 10 s would outlast the
    run)."""
    return fleet_device(dataclasses.replace(config, handshake_timeout=1.0), clock, rng)


async def _run(tmp_path: Path, port: int) -> Summary:
    (tmp_path / "s.yaml").write_text(
        f"""
version: 1
server: coaps://127.0.0.1:{port}
seed: 1
duration: 3s
groups:
  - count: {DEVICES}
    endpoint: "psk-{{index}}"
    security:
      identity: "psk-{{index}}"
      key: "hex:{b"not the key".hex()}"
phases:
  - {{duration: 1s, arrivalCount: {DEVICES}}}
"""
    )
    fleet = Fleet(load_scenario(tmp_path / "s.yaml"), factory=_short_handshakes, drain=1.0)
    return await asyncio.wait_for(fleet.run(), timeout=60)


def _reasons(summary: Summary) -> dict[str, int]:
    handshake = summary.operations[Operation.HANDSHAKE]
    text = json.dumps(summary.to_json())
    back = Summary.loads(text).operations[Operation.HANDSHAKE].failure_reasons
    assert back == handshake.failure_reasons  # the JSON carries them exactly
    return dict(handshake.failure_reasons)


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        ("certificates-only", "DTLS alert 40 (handshake_failure) received"),
        ("wrong-key", "handshake timeout"),
    ],
)
async def test_the_summary_counts_alert_and_timeout_apart(
    tmp_path: Path, setup: str, reason: str
) -> None:
    if setup == "certificates-only":
        ca = FleetCa.create(tmp_path / "ca")
        args = ["-c", str(ca.directory / SERVER_FILE), "-j", str(ca.directory / SERVER_KEY)]
    else:
        args = ["-k", "the key"]
    async with libcoap_server("coap-server-openssl", free_port_pair(), args) as (_, port):
        summary = await _run(tmp_path, port)
    reasons = _reasons(summary)
    assert set(reasons) == {reason}  # every failure for that one reason, no other
    assert reasons[reason] >= DEVICES  # each device at least once (retries may add more)
    register = summary.operations[Operation.REGISTER]
    assert register.count == register.failures  # nobody registered
    assert set(register.failure_reasons) <= {reason}
    text = render_summary(summary)
    assert f"handshake  {reason} {reasons[reason]}" in text
