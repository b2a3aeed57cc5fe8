"""``fleet device`` with a certificate: it registers with the embedded server over DTLS with
X.509 (a subprocess, as users run it), logs the handshake and never the key; the option
combinations that cannot work are refused."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from fleet.cli.device import device
from fleet.client.fleet_ca import FleetCa
from fleet.server import Lwm2mServer

from ..client.x509.helpers import requires_x509, write_pair

pytestmark = requires_x509
RUN = [sys.executable, "-c", "from fleet.cli.device import device; device()"]


@pytest.mark.asyncio
async def test_fleet_device_registers_with_its_certificate(tmp_path: Path) -> None:
    ca = FleetCa.create(tmp_path / "ca")
    cert, key = write_pair(ca, tmp_path, "cli-dev")
    async with await Lwm2mServer.start(certificate=ca.server_credentials()) as server:
        assert server.secure_uri is not None
        args = ["--server", server.secure_uri, "--endpoint", "cli-dev", "--certificate"]
        args += [str(cert), "--private-key", str(key), "--server-ca", str(tmp_path / "ca/ca.pem")]
        process = await asyncio.create_subprocess_exec(
            *RUN, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        try:
            await server.wait_for_registration("cli-dev", timeout=20.0)
            assert server.psk_identity("cli-dev") == b"cli-dev"
        finally:
            process.terminate()
            _, err = await asyncio.wait_for(process.communicate(), 20.0)
    text = err.decode()
    assert "DTLS handshake with" in text and "done in" in text
    assert key.read_text().splitlines()[1] not in text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--private-key", "KEY"], "--certificate and --private-key go together"),
        (["--server-ca", "CERT"], "--server-ca/--server-certificate need --certificate"),
        (["--certificate", "CERT", "--private-key", "KEY"], "give server_ca"),
        (
            ["--certificate", "CERT", "--private-key", "KEY", "--server-ca", "CERT",
             "--psk-identity", "a", "--psk-key", "00"],
            "--certificate goes with --server, without PSK options",
        ),
    ],
)  # fmt: skip
def test_option_combinations_that_cannot_work(
    tmp_path: Path, extra: list[str], message: str
) -> None:
    ca = FleetCa.create(tmp_path / "ca")
    cert, key = write_pair(ca, tmp_path, "d")
    args = [str(cert) if a == "CERT" else str(key) if a == "KEY" else a for a in extra]
    result = CliRunner().invoke(
        device, ["--server", "coaps://127.0.0.1:5684", "--endpoint", "d", *args]
    )
    assert result.exit_code == 2 and message in result.output, result.output
