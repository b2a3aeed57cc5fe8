"""``fleet server --ca DIR`` as a subprocess: a device with a certificate of the fleet CA
registers over DTLS and answers a console READ; PSK options and --ca together are refused."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from fleet.cli import main
from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.client.fleet_ca import FleetCa

from ..client.x509.helpers import credentials, requires_x509

pytestmark = requires_x509
WAIT = 20.0


@pytest.mark.asyncio
async def test_a_certificate_device_through_fleet_server(tmp_path: Path) -> None:
    ca = FleetCa.create(tmp_path / "certs")
    script = tmp_path / "commands.txt"
    script.write_text("WAIT dev1 10\ndev1 READ /3/0/0\n")
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-c", "from fleet.cli.server import server; server()"],
        *["--port", "0", "--dtls-port", "0"],
        *["--ca", str(tmp_path / "certs"), "--commands", str(script), "--exit-after-commands"],
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    first = (await asyncio.wait_for(process.stderr.readline(), WAIT)).decode()
    found = re.search(r"coaps://\S+", first)
    assert found, first
    x509 = credentials(ca, "dev1")
    device = Device(DeviceConfig("dev1", server=found.group(0), lifetime=60, x509=x509))
    await device.start()
    try:
        out, err = await asyncio.wait_for(process.communicate(), WAIT)
    finally:
        await asyncio.wait_for(device.stop(deregister=False), WAIT)
    text = out.decode()
    assert "registration" in text and "dev1" in text
    assert "READ" in text or "3/0/0" in text
    assert x509.key.hex() not in text + err.decode()
    assert await process.wait() == 0


def test_ca_and_psk_options_do_not_mix(tmp_path: Path) -> None:
    FleetCa.create(tmp_path / "certs")
    result = CliRunner().invoke(
        main, ["server", "--ca", str(tmp_path / "certs"), "--psk-identity", "a", "--psk-key", "00"]
    )
    assert result.exit_code == 2 and "--ca serves certificates" in result.output
