"""``fleet device`` against a server that is not there says so within seconds.

A port with nothing listening answers with an ICMP port unreachable; the device takes
it from the kernel (``IP_RECVERR``) and fails the Register at once with that reason,
then retries with the Server object's back-off. A server that never answers (a socket
that reads nothing) shows each retransmission as it happens.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time

import pytest

from fleet.cli.device import _run as run_device
from fleet.client.config import DeviceConfig
from fleet.client.registration import RetryPolicy

from .test_cli_device import PROCESS_WAIT, _line_with

pytestmark = pytest.mark.asyncio


def _dead_port(family: socket.AddressFamily, host: str) -> int:
    """A UDP port on loopback with nothing bound to it (bound, then closed)."""
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


async def _device(server: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "fleet.cli.device", "--server", server, "--endpoint", "dead-1"),
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


async def _stop(process: asyncio.subprocess.Process) -> int:
    if process.returncode is None:
        process.terminate()
    return await asyncio.wait_for(process.wait(), PROCESS_WAIT)


@pytest.mark.parametrize(
    ("family", "host", "shown"),
    [(socket.AF_INET, "127.0.0.1", "127.0.0.1"), (socket.AF_INET6, "::1", "[::1]")],
)
async def test_a_port_with_nothing_listening_is_reported_within_5_s(
    family: socket.AddressFamily, host: str, shown: str
) -> None:
    port = _dead_port(family, host)
    process = await _device(f"coap://{shown}:{port}")
    assert process.stderr is not None
    try:
        await _line_with(process.stderr, "registering with")  # started: the clock runs now
        began = time.monotonic()
        line = await _line_with(process.stderr, "Register failed")
        took = time.monotonic() - began
        assert f"{shown}:{port}: port unreachable (ICMP); retry in 60 s" in line
        assert took < 5.0, f"the reason took {took:.1f} s"
    finally:
        code = await _stop(process)
    assert code == 130  # never registered, then SIGTERM: non-zero, as Ctrl-C anywhere


async def test_a_server_that_never_answers_shows_each_retransmission() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))  # bound, never read: no answer, no ICMP either
        port = silent.getsockname()[1]
        process = await _device(f"coap://127.0.0.1:{port}")
        assert process.stderr is not None
        try:
            line = await _line_with(process.stderr, "no answer from")
            assert line.strip() == f"dead-1: no answer from 127.0.0.1:{port} yet: sent again"
        finally:
            await _stop(process)


async def test_a_device_that_gives_up_without_registering_exits_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    port = _dead_port(socket.AF_INET, "127.0.0.1")
    once = RetryPolicy(retry_count=1, retry_timer=1, sequence_delay=1, sequence_retry_count=1)
    config = DeviceConfig("dead-2", server=f"coap://127.0.0.1:{port}", retry=once)
    code = await asyncio.wait_for(run_device(config), PROCESS_WAIT)  # ICMP: no waiting
    assert code == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[-1] == (
        f"dead-2: Register failed: CoapUnreachable: 127.0.0.1:{port}: port unreachable (ICMP); "
        "giving up"
    )
