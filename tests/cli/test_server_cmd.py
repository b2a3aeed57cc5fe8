"""``fleet server`` as a process: a commands file drives it, a real device answers, and the
printed received messages (``--json``: one per line; default: pretty JSON) are checked."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from fleet.cli.server import server
from fleet.client.config import DeviceConfig
from fleet.client.device import Device

RUN = [sys.executable, "-c", "from fleet.cli.server import server; server()"]
WAIT = 20.0


async def _run(tmp_path: Path, lines: list[str], *extra: str) -> tuple[str, str, int]:
    script = tmp_path / "commands.txt"
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        *RUN,
        "--port",
        "0",
        "--commands",
        str(script),
        "--exit-after-commands",
        "--timeout",
        "1",
        *extra,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    first = (await asyncio.wait_for(process.stderr.readline(), WAIT)).decode()
    found = re.search(r"coap://\S+", first)
    assert found, first
    device = Device(DeviceConfig(endpoint="dev1", server=found.group(0), lifetime=60))
    await device.start()
    try:
        out, err = await asyncio.wait_for(process.communicate(), WAIT)
    finally:
        await asyncio.wait_for(device.stop(deregister=False), WAIT)
    return out.decode(), first + err.decode(), await process.wait()


@pytest.mark.asyncio
async def test_scripted_session_prints_one_json_message_per_line(tmp_path: Path) -> None:
    out, err, code = await _run(
        tmp_path,
        [
            "WAIT dev1 10",
            "dev1 READ /3",
            "dev1 WRITE /3442/0/110 Hello; RD /3442/0/110",
            "dev1 EXECUTE /3442/0/2",
            "dev1 WRITE /3442/0/110",
            "dev1 UNOBSERVE /3303/0/5602",
            "INFO dev1",
        ],
        "--json",
    )
    assert code == 0, err
    records: list[dict[str, Any]] = [json.loads(line) for line in out.splitlines()]
    messages = [r for r in records if "content" in r]
    assert messages[0]["content"]["messageType"] == "registration"
    responses = [m["content"] for m in messages if m["content"]["messageType"] == "response"]
    assert [(r["method"], r["resourcePath"], r["status"]["code"]) for r in responses] == [
        ("read", "3", 200),
        ("write", "3442/0/110", 200),
        ("read", "3442/0/110", 200),
        ("exec", "3442/0/2", 200),
        ("write", "3442/0/110", 400),
        ("unobserve", "3303/0/5602", 404),
    ]
    assert responses[0]["data"]["3/0/0"] == "lwm2m-fleet"
    assert responses[2]["data"] == {"3442/0/110": "Hello"}
    info = records[-1]["deviceInfo"]
    assert info["deviceLabel"] == "dev1" and info["location"].startswith("geo:")


@pytest.mark.asyncio
async def test_pretty_output_is_multi_line_json(tmp_path: Path) -> None:
    out, err, code = await _run(tmp_path, ["WAIT dev1 10", "dev1 READ /3/0/0"])
    assert code == 0, err
    decoder = json.JSONDecoder()
    text, found = out.strip(), []
    while text:
        value, end = decoder.raw_decode(text)
        found.append(value)
        text = text[end:].strip()
    assert len(out.splitlines()) > len(found)  # indented, several lines each
    response = found[-1]
    assert response["content"]["data"] == {"3/0/0": "lwm2m-fleet"}
    assert response["labels"][0].startswith("outgoing_msgRN:")


def test_a_port_in_use_is_a_clean_error() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        result = CliRunner().invoke(server, ["--port", str(port), "--exit-after-commands"])
    assert result.exit_code == 1
    assert "cannot serve" in result.output
