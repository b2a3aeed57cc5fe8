"""``fleet server --bootstrap-port``: devices bootstrap from it and register at it, and the
console prints ``bootstrap-request`` / ``bootstrap-finish`` with their codes."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fleet.cli.server import server
from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.server import Lwm2mServer

RUN = [sys.executable, "-c", "from fleet.cli.server import server; server()"]
WAIT = 20.0

pytestmark = pytest.mark.asyncio


async def _session(tmp_path: Path, names: list[str], *extra: str) -> list[dict[str, Any]]:
    script = tmp_path / "commands.txt"
    script.write_text("".join(f"WAIT {name} 15\n" for name in names), encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        *RUN,
        "--port",
        "0",
        "--bootstrap-port",
        "0",
        "--json",
        "--commands",
        str(script),
        "--exit-after-commands",
        *extra,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    first = (await asyncio.wait_for(process.stderr.readline(), WAIT)).decode()
    second = (await asyncio.wait_for(process.stderr.readline(), WAIT)).decode()
    found = re.search(r"bootstrap server listening on (coap://\S+)", second)
    assert found, first + second
    devices = [Device(DeviceConfig(name, bootstrap=found.group(1))) for name in names]
    await asyncio.gather(*(d.start() for d in devices))
    try:
        out, err = await asyncio.wait_for(process.communicate(), WAIT)
    finally:
        await asyncio.gather(*(d.stop(deregister=False) for d in devices))
    assert await process.wait() == 0, err.decode()
    return [json.loads(line)["content"] for line in out.decode().splitlines() if "content" in line]


async def test_devices_bootstrap_from_the_server_command_and_register_there(
    tmp_path: Path,
) -> None:
    messages = await _session(tmp_path, ["boot-1", "boot-2"])
    for name in ("boot-1", "boot-2"):
        mine = [
            (m["messageType"], m.get("code")) for m in messages if m["nodeResourceName"] == name
        ]
        assert mine == [
            ("bootstrap-request", "2.04"),
            ("bootstrap-finish", "2.04"),
            ("registration", None),
        ]


async def test_a_configuration_file_without_the_endpoint_refuses_it(tmp_path: Path) -> None:
    config = tmp_path / "bs.yaml"
    config.write_text(
        "endpoints:\n  other-*:\n    servers: [{uri: 'coap://127.0.0.1:9'}]\n", encoding="utf-8"
    )
    script = tmp_path / "commands.txt"
    script.write_text("SLEEP 1\n", encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        *RUN,
        "--port",
        "0",
        "--bootstrap-port",
        "0",
        "--bootstrap-config",
        str(config),
        "--json",
        "--commands",
        str(script),
        "--exit-after-commands",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    await asyncio.wait_for(process.stderr.readline(), WAIT)
    second = (await asyncio.wait_for(process.stderr.readline(), WAIT)).decode()
    found = re.search(r"bootstrap server listening on (coap://\S+)", second)
    assert found, second
    device = Device(DeviceConfig("stranger", bootstrap=found.group(1)))
    failed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    device.add_listener(
        lambda e: (
            None if failed.done() or type(e).__name__ != "BootstrapFailed" else failed.set_result(e)
        )
    )
    await device.start()
    try:
        event = await asyncio.wait_for(failed, WAIT)
        assert event.reason == "answered 4.00" and event.cause == "4.00 Bad Request"
        out, _ = await asyncio.wait_for(process.communicate(), WAIT)
    finally:
        await device.stop(deregister=False)
    messages = [json.loads(line)["content"] for line in out.decode().splitlines()]
    assert messages == [
        {
            "nodeResourceName": "stranger",
            "time": messages[0]["time"],
            "messageType": "bootstrap-request",
            "code": "4.00",
            "detail": "no bootstrap configuration for endpoint stranger",
        }
    ]


async def test_bootstrap_options_are_checked() -> None:
    result = CliRunner().invoke(server, ["--bootstrap-psk-identity", "x"])
    assert result.exit_code == 2 and "go together" in result.output
    result = CliRunner().invoke(server, ["--bootstrap-config", __file__])
    assert result.exit_code == 2 and "need --bootstrap-port" in result.output


def _scenario_with_section(tmp_path: Path, server_uri: str) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(
        f"""version: 1
bootstrap:
  endpoints:
    "sec-*":
      servers: [{{uri: "{server_uri}", short_server_id: 3, lifetime: 123}}]
groups:
  - name: g
    count: 1
    endpoint: "sec-{{index}}"
    bootstrap: coap://127.0.0.1:5783
""",
        encoding="utf-8",
    )
    return path


async def test_the_scenario_bootstrap_section_says_what_is_written(tmp_path: Path) -> None:
    async with await Lwm2mServer.start() as elsewhere:
        scenario = _scenario_with_section(tmp_path, elsewhere.uri)
        process = await asyncio.create_subprocess_exec(
            *RUN,
            *("--port", "0", "--bootstrap-port", "0", "--scenario", str(scenario)),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        assert process.stderr is not None
        try:
            await asyncio.wait_for(process.stderr.readline(), WAIT)
            second = (await asyncio.wait_for(process.stderr.readline(), WAIT)).decode()
            found = re.search(r"bootstrap server listening on (coap://\S+)", second)
            assert found, second
            device = Device(DeviceConfig("sec-0", bootstrap=found.group(1)))
            await device.start()
            try:
                registration = await elsewhere.wait_for_registration("sec-0", WAIT)
                assert registration.lifetime == 123  # the section's account, not the CLI's
                assert device.account is not None and device.account.short_server_id == 3
            finally:
                await device.stop()
        finally:
            process.terminate()
            await process.wait()


async def test_a_scenario_section_without_a_bootstrap_port_is_refused(tmp_path: Path) -> None:
    section = _scenario_with_section(tmp_path, "coap://127.0.0.1:9")
    result = CliRunner().invoke(server, ["--scenario", str(section)])
    assert result.exit_code == 2
    assert "bootstrap: section is served with --bootstrap-port N" in result.output
