"""``fleet device --bootstrap``: a real process bootstraps by hand, logging each step."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest

from fleet.server.events import EventKind
from tests.client.test_cli_device import PROCESS_WAIT, _line_with

from .helpers import bootstrap_pair

pytestmark = pytest.mark.asyncio


async def test_device_command_bootstraps_then_registers() -> None:
    async with bootstrap_pair(lifetime=120) as pair:
        deregistered = pair.server.expect(EventKind.DEREGISTRATION, endpoint="cli-bs")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "fleet.cli.device",
            "--bootstrap",
            pair.bootstrap.uri,
            "--endpoint",
            "cli-bs",
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert process.stderr is not None
        try:
            await _line_with(process.stderr, f"bootstrapping from {pair.bootstrap.uri}")
            assert "2.05" in await _line_with(process.stderr, "Bootstrap-Discover / ")
            assert "2.02" in await _line_with(process.stderr, "Bootstrap-Delete /0 ")
            line = await _line_with(process.stderr, "Bootstrap-Write /0/1 ")
            assert "tlv (11542) 2.04" in line
            await _line_with(process.stderr, "Bootstrap-Write /1/0 ")
            assert "2.04" in await _line_with(process.stderr, "Bootstrap-Finish /bs")
            line = await _line_with(process.stderr, "bootstrapped")
            assert f"registering with {pair.server.uri} (NoSec)" in line
            assert "lifetime 120 s" in await _line_with(process.stderr, "registered at")
            registration = await pair.server.wait_for_registration("cli-bs", PROCESS_WAIT)
            assert registration.lifetime == 120
            process.send_signal(signal.SIGINT)
            await asyncio.wait_for(deregistered, PROCESS_WAIT)
            assert await asyncio.wait_for(process.wait(), PROCESS_WAIT) == 130  # as fleet run
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()


async def test_device_command_wants_a_server_or_a_bootstrap_server() -> None:
    from click.testing import CliRunner

    from fleet.cli.device import device

    result = CliRunner().invoke(device, ["--endpoint", "x"])
    assert result.exit_code == 2 and "give either --server or --bootstrap" in result.output
    result = CliRunner().invoke(
        device, ["--endpoint", "x", "--bootstrap", "coaps://127.0.0.1:5684"]
    )
    assert result.exit_code == 2 and "needs --psk-identity and --psk-key" in result.output
