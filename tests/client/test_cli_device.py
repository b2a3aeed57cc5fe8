"""``fleet device``: a real process against the fake server; Ctrl-C de-registers."""

from __future__ import annotations

import asyncio
import os
import pathlib
import signal
import sys

import pytest
from click.testing import CliRunner

from fleet.cli.device import describe, device, device_layout
from fleet.cli.options import registry_from_options
from fleet.client.config import DeviceConfig, default_registry
from fleet.client.device import Device
from fleet.client.events import Operation, RegistrationFailed, RequestServed
from fleet.clock import ManualClock
from fleet.device import SHIPPED_LAYOUT

from .fakes import GET, PUT, FakeServer

PROCESS_WAIT = 20.0  # real seconds: a Python start-up on a busy machine


async def _line_with(stream: asyncio.StreamReader, text: str) -> str:
    async def scan() -> str:
        while True:
            raw = await stream.readline()
            if not raw:
                raise AssertionError(f"stderr ended before a line with {text!r}")
            line = raw.decode()
            if text in line:
                return line

    return await asyncio.wait_for(scan(), PROCESS_WAIT)


@pytest.mark.asyncio
async def test_device_command_serves_logs_and_deregisters_on_ctrl_c(server: FakeServer) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fleet.cli.device",
        "--server",
        server.uri,
        "--endpoint",
        "cli-1",
        "--lifetime",
        "120",
        "--format",
        "senml-json",
        "--value",
        "/3/0/0=ACME",
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stderr is not None
    try:
        register = await server.next("register", PROCESS_WAIT)
        assert register.query[:2] == ("ep=cli-1", "lt=120")
        await _line_with(process.stderr, "registered at /rd/1")
        read = await server.request("cli-1", GET, "/3/0/0")
        assert b'"vs":"ACME"' in read.payload  # the preferred format even for one value
        line = await _line_with(process.stderr, "GET /3/0/0")
        assert "GET /3/0/0 senml-json (110) 2.05" in line
        refused = await server.request("cli-1", PUT, "/3/0/0", payload=b"x", content_format=0)
        assert int(refused.code) == 133
        assert "4.05" in await _line_with(process.stderr, "PUT /3/0/0")
        process.send_signal(signal.SIGINT)
        deregister = await server.next("deregister", PROCESS_WAIT)
        assert deregister.request.opt.uri_path == ("rd", "1")
        assert await asyncio.wait_for(process.wait(), PROCESS_WAIT) == 130  # as fleet run
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def test_bad_server_uri_is_reported() -> None:
    result = CliRunner().invoke(device, ["--server", "https://x", "--endpoint", "a"])
    assert result.exit_code == 2
    assert result.output.endswith(
        "Error: server URI 'https://x': the scheme must be coap:// (NoSec) or coaps:// "
        "(DTLS-PSK), got https://\n"
    )


def test_bad_value_option_is_a_usage_error() -> None:
    result = CliRunner().invoke(
        device, ["--server", "coap://127.0.0.1", "--endpoint", "a", "--value", "3/0/0"]
    )
    assert result.exit_code == 2 and "PATH=VALUE" in result.output


def test_log_lines() -> None:
    served = RequestServed(
        "e", 0.0, "GET", Operation.READ, "/3/0", 112, "2.05", 0.0, ("127.0.0.1", 1)
    )
    assert describe(served) == "GET /3/0 senml-cbor (112) 2.05"
    failed = RegistrationFailed("e", 0.0, "Register", "answered 4.03", 5, 1, None)
    assert describe(failed) == "Register failed: answered 4.03; giving up"


OMA_REGISTRY = pathlib.Path(__file__).resolve().parents[3] / "shared" / "oma-registry"


def test_objects_folders_add_their_objects_to_the_device() -> None:
    light = OMA_REGISTRY / "3311.xml"
    assert light.is_file(), f"the OMA registry snapshot is missing: {light}"
    registry = registry_from_options([light])
    layout, skipped = device_layout(registry)
    assert sorted(layout.objects) == [0, 1, 3, 6, 3303, 3311, 3442] and skipped == ()
    virtual = Device(DeviceConfig("x", layout=layout, registry=registry), clock=ManualClock())
    assert b"</3311/0>" in virtual.register_payload()
    assert device_layout(default_registry())[0].objects.keys() == SHIPPED_LAYOUT.objects.keys()
