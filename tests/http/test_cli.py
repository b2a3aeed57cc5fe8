"""``fleet server --http``: a process serving the platform API beside the LwM2M server; a
real device registers over UDP and an HTTP client reads what the process files."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import sys

import aiohttp
import pytest
from click.testing import CliRunner

from fleet.cli.server import server
from fleet.client.config import DeviceConfig
from fleet.client.device import Device

RUN = [sys.executable, "-c", "from fleet.cli.server import server; server()"]
WAIT = 20.0


@pytest.mark.asyncio
async def test_server_http_serves_the_api_on_loopback() -> None:
    process = await asyncio.create_subprocess_exec(
        *RUN,
        "--port",
        "0",
        "--http",
        "0",
        "--tenant",
        "acme",
        "--token",
        "t0k",
        "--json",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None and process.stdin is not None
    device = None
    try:
        coap = (await asyncio.wait_for(process.stderr.readline(), WAIT)).decode()
        http = (await asyncio.wait_for(process.stderr.readline(), WAIT)).decode()
        uri = re.search(r"coap://\S+", coap)
        api = re.search(r"platform API on (http://127\.0\.0\.1:\d+\S*),", http)
        assert uri and api, (coap, http)
        assert api.group(1).endswith("/device-management-orchestrator/v3/acme")
        device = Device(DeviceConfig(endpoint="dev1", server=uri.group(0), lifetime=60))
        await device.start()
        await asyncio.wait_for(device.registered.wait(), WAIT)
        headers = {"Authorization": "Bearer t0k", "Content-Type": "application/json;ty=4"}
        async with aiohttp.ClientSession(headers=headers) as session:
            base = api.group(1) + "/device-communication/dev1"
            async with session.get(base + "/received-msg/la") as reply:
                assert reply.status == 200
                filed = await reply.json()
            assert filed["contentInstance"]["content"]["messageType"] in ("registration",)
            body = {"m2m:cin": {"con": "READ /3/0/0"}}
            async with session.post(base + "/outgoing-msg", json=body, headers=headers) as reply:
                assert reply.status == 201
            # the same received message goes to stdout (the stdin console shares the console)
            assert process.stdout is not None
            while True:
                line = await asyncio.wait_for(process.stdout.readline(), WAIT)
                message = json.loads(line)
                if message["content"]["messageType"] == "response":
                    break
            assert message["content"]["resourcePath"] == "3/0/0"
            async with session.get(base + "/received-msg/la") as reply:
                latest = (await reply.json())["contentInstance"]
            assert latest["content"] == message["content"]
            async with session.get(base + "/received-msg/la", headers={"Authorization": ""}) as r:
                assert r.status == 401
    finally:
        if device is not None:
            await device.stop(deregister=False)
        process.stdin.write(b"QUIT\n")
        await process.stdin.drain()
        assert await asyncio.wait_for(process.wait(), WAIT) == 0


def test_http_options_without_http_are_refused() -> None:
    result = CliRunner().invoke(server, ["--port", "0", "--token", "x"])
    assert result.exit_code != 0
    assert "go with --http PORT" in result.output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--tenant", "a/b"], "--tenant"),
        (["--token", "two words"], "--token"),
    ],
)
def test_bad_http_options(arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(server, ["--port", "0", "--http", "0", *arguments])
    assert result.exit_code == 2
    assert message in result.output


def test_an_http_port_in_use_is_a_clean_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(server, ["--port", "0", "--http", str(port)])
    assert result.exit_code == 1
    assert f"cannot serve HTTP on 127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output


def test_demo_web_needs_the_embedded_server() -> None:
    from fleet.cli.demo import demo

    result = CliRunner().invoke(demo, ["--web", "--server", "coap://127.0.0.1:5683"])
    assert result.exit_code == 2
    assert "not with --server" in result.output


def test_demo_web_port_in_use_is_a_clean_error() -> None:
    from fleet.cli.demo import demo

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(
            demo, ["--web", "--web-port", str(port), "--no-browser", "--devices", "1"]
        )
    assert result.exit_code == 1
    assert f"cannot serve HTTP on 127.0.0.1:{port}" in result.output
    assert "Traceback" not in result.output


@pytest.mark.asyncio
async def test_ipv6_loopback_when_asked() -> None:
    from fleet.server import Lwm2mServer
    from fleet.server.http import HttpServer, StandIn

    async with await Lwm2mServer.start() as lwm2m:
        standin = StandIn(lwm2m)
        http = await HttpServer.start(standin, "::1", 0)
        try:
            assert http.url.startswith("http://[::1]:")
            async with aiohttp.ClientSession() as session, session.get(http.url + "/") as reply:
                assert reply.status == 200
        finally:
            await http.stop()
            await standin.close()


def test_other_commands_do_not_import_aiohttp() -> None:
    import subprocess

    code = "import sys, fleet.cli; print('aiohttp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
