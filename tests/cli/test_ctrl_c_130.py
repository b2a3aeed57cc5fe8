"""Ctrl-C exits 130 everywhere (issue 14): ``fleet server`` and ``fleet demo`` as real
processes stopped with SIGINT (and SIGTERM) end cleanly with 130, as ``fleet run``
(tests/cli/test_run_metrics.py, test_ctrl_c_startup.py) and ``fleet device``
(tests/client/test_cli_device.py) do; a demo that reaches its ``--duration`` exits 0."""

from __future__ import annotations

import asyncio
import signal
import sys

import pytest

from fleet.client.config import DeviceConfig
from fleet.client.device import Device

pytestmark = pytest.mark.asyncio

FLEET = [sys.executable, "-c", "from fleet.cli import main; main()"]
WAIT = 20.0  # real seconds: a Python start-up on a busy machine


async def _line_with(stream: asyncio.StreamReader, text: str) -> str:
    async def scan() -> str:
        while raw := await stream.readline():
            if text in raw.decode():
                return raw.decode()
        raise AssertionError(f"the output ended before a line with {text!r}")

    return await asyncio.wait_for(scan(), WAIT)


async def _start(*arguments: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *FLEET,
        *arguments,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _ended(process: asyncio.subprocess.Process) -> tuple[int, str, str]:
    out, err = await asyncio.wait_for(process.communicate(), WAIT)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
async def test_fleet_server_stopped_by_a_signal_exits_130(signum: int) -> None:
    process = await _start("server", "--port", "0")
    try:
        assert process.stderr is not None
        line = await _line_with(process.stderr, "listening on coap://")
        uri = line.split("listening on ")[1].split()[0]
        device = Device(DeviceConfig(endpoint="ctrl-c", server=uri, lifetime=60))
        await device.start()
        try:
            await asyncio.wait_for(device.registered.wait(), WAIT)
        finally:
            await device.stop()
        process.send_signal(signum)
        code, _, err = await _ended(process)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert code == 130, err
    assert "Traceback" not in err


async def test_fleet_demo_stopped_by_ctrl_c_deregisters_every_device_and_exits_130() -> None:
    process = await _start("demo", "--devices", "2", "--time-scale", "1")
    try:
        assert process.stdout is not None
        await _line_with(process.stdout, "registered 2")
        process.send_signal(signal.SIGINT)
        code, out, err = await _ended(process)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert code == 130, err
    assert "2 started, 2 registered, 2 de-registered" in out
    assert "Traceback" not in err


async def test_fleet_demo_that_reaches_its_duration_exits_0() -> None:
    process = await _start("demo", "--devices", "1", "--time-scale", "1", "--duration", "1s")
    try:
        code, out, err = await _ended(process)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert code == 0, err
    assert "demo finished" in out
