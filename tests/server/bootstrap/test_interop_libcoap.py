"""Interop: a device bootstraps from a Bootstrap-Server made of software we did not write.

No LwM2M Bootstrap-Server installs here, so its two halves come from libcoap 4.3 and a
third-party LwM2M codec:

1. ``coap-server-notls -d`` (dynamic resources) holds ``/bs`` and answers the device's
   Bootstrap-Request (``POST /bs?ep=..``) 2.04 Changed (LwM2M 1.1 Core 6.1.3);
2. it is stopped, and ``coap-client-notls -p PORT`` sends, from that same address (the
   device takes bootstrap operations only from its Bootstrap-Server Account's address),
   Bootstrap-Discover, -Delete, -Write, -Read and -Finish (5.2.7). The Security instance is
   SenML JSON written out below (RFC 8428 names and values, Core 7.4.4); the Server instance
   is TLV encoded by PeterEB's ``lwm2m-codec`` (npm, tests/interop/node_modules), and the
   Bootstrap-Read's TLV answer is decoded by it too;
3. after Finish the device registers with the embedded LwM2M server it was told about, with
   the lifetime the Write carried.

Every answer code is read from libcoap's own log of the response (``-v 6``).
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import pytest

from fleet.client.bootstrap.driver import BootstrapState
from fleet.client.config import DeviceConfig
from fleet.client.device import Device
from fleet.server import Lwm2mServer

SERVER = shutil.which("coap-server-notls")
CLIENT = shutil.which("coap-client-notls")
NODE = shutil.which("node")
NODE_MODULES = Path(__file__).resolve().parents[2] / "interop" / "node_modules"
WAIT = 20.0
EP = "libcoap-dev"

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.interop,
    pytest.mark.skipif(
        SERVER is None or CLIENT is None,
        reason="libcoap's coap-*-notls not on PATH: run scripts/install-tools.sh",
    ),
    pytest.mark.skipif(
        NODE is None or not (NODE_MODULES / "lwm2m-codec").is_dir(),
        reason="node and lwm2m-codec needed: run scripts/install-tools.sh",
    ),
]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def codec(script: str) -> str:
    """Run ``script`` with ``lwm2m-codec`` required as ``c``; its standard output."""
    assert NODE is not None
    process = await asyncio.create_subprocess_exec(
        NODE,
        "-e",
        f"const c = require('lwm2m-codec');\n{script}",
        cwd=NODE_MODULES.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), WAIT)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def coap_client(*args: str) -> str:
    """coap-client-notls with libcoap's log of the exchange (``-v 6``); the response code."""
    assert CLIENT is not None
    process = await asyncio.create_subprocess_exec(
        CLIENT,
        *("-v", "6", "-B", "5", "-U"),
        *args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), WAIT)
    text = out.decode(errors="replace") + err.decode(errors="replace")
    codes = re.findall(r"t:ACK c:(\d\.\d\d)", text)
    assert codes, text
    return codes[-1]


@asynccontextmanager
async def libcoap_server(port: int) -> AsyncIterator[asyncio.subprocess.Process]:
    """coap-server-notls on ``port`` with dynamic resources, logging each PDU (stdout)."""
    assert SERVER is not None
    process = await asyncio.create_subprocess_exec(
        SERVER,
        *("-A", "127.0.0.1", "-p", str(port), "-d", "4", "-v", "7"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # its PDU dumps and its debug lines, in order
    )
    try:
        await until_line(process, lambda line: "created UDP" in line)
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(process.wait(), 5.0)
        if process.returncode is None:
            process.kill()
            await process.wait()


async def until_line(process: asyncio.subprocess.Process, wanted: object) -> list[str]:
    """Read ``process``'s log until a line satisfies ``wanted``; the lines read."""
    assert process.stdout is not None and callable(wanted)
    lines: list[str] = []
    while True:
        raw = await asyncio.wait_for(process.stdout.readline(), WAIT)
        assert raw, "the libcoap server ended: " + "".join(lines)
        lines.append(raw.decode(errors="replace"))
        if wanted(lines[-1]):
            return lines


async def test_a_device_bootstraps_from_libcoap_then_registers(tmp_path: Path) -> None:
    port = free_udp_port()
    async with await Lwm2mServer.start() as server:
        device = Device(DeviceConfig(EP, bootstrap=f"coap://127.0.0.1:{port}"))
        try:
            async with libcoap_server(port) as bs:
                # /bs exists before the device asks (a POST to an unknown path creates it 2.01)
                assert await coap_client("-m", "put", f"coap://127.0.0.1:{port}/bs") == "2.01"
                await device.start()
                lines = await until_line(bs, lambda line: f"Uri-Query:ep={EP}" in line)
                request = lines[-1]
                assert "c:POST" in request and "Uri-Path:bs" in request
                assert "Uri-Query:pct=112" in request  # 1.1: its preferred format, SenML CBOR
                mid = re.search(r" i:([0-9a-f]+) ", request)
                assert mid is not None
                # libcoap flushes its dump of the answer when it exits: stop it, read the rest
                bs.terminate()
                rest, _ = await asyncio.wait_for(bs.communicate(), WAIT)
                assert f"t:ACK c:2.04 i:{mid.group(1)} " in rest.decode(errors="replace")
            # the Bootstrap-Server's socket is free: libcoap's client takes its address
            assert device.bootstrap is not None
            assert device.bootstrap.state is BootstrapState.WAITING
            address = device.address
            assert address is not None
            target = f"coap://{address[0]}:{address[1]}"
            send = ("-p", str(port))

            discover = tmp_path / "discover.txt"
            code = await coap_client(*send, "-A", "40", "-o", str(discover), f"{target}/")
            assert code == "2.05"
            links = discover.read_text(encoding="utf-8")
            assert links.startswith("</>;lwm2m=1.1,") and "</0/0>" in links

            # 5.2.7.5: "/" deletes everything but the Bootstrap-Server Account
            assert await coap_client(*send, "-m", "delete", f"{target}/") == "2.02"
            assert await coap_client(*send, "-m", "delete", f"{target}/0/0") == "4.00"

            security = tmp_path / "security.json"
            security.write_text(
                json.dumps(
                    [
                        {"bn": "/0/1/", "n": "0", "vs": server.uri},  # LwM2M Server URI
                        {"n": "1", "vb": False},  # not a Bootstrap-Server
                        {"n": "2", "v": 3},  # Security Mode 3: NoSec
                        {"n": "10", "v": 7},  # Short Server ID
                    ]
                ),
                encoding="utf-8",
            )
            put = ("-m", "put", "-t", "110", "-f", str(security), f"{target}/0/1")
            assert await coap_client(*send, *put) == "2.04"

            tlv = tmp_path / "server.tlv"
            script = (
                "const value = {0: 7, 1: 333, 6: true, 7: 'U'};"
                f"require('fs').writeFileSync({json.dumps(str(tlv))},"
                " c.encode('tlv', '/1/0', value));"
            )
            await codec(script)
            put = ("-m", "put", "-t", "11542", "-f", str(tlv), f"{target}/1/0")
            assert await coap_client(*send, *put) == "2.04"

            # Bootstrap-Read (1.1) of what was written, decoded by lwm2m-codec
            read = tmp_path / "read.tlv"
            code = await coap_client(*send, "-A", "11542", "-o", str(read), f"{target}/1/0")
            assert code == "2.05"
            decoded = await codec(
                "const buf = require('fs').readFileSync("
                f"{json.dumps(str(read))});"
                "console.log(JSON.stringify(c.decode('tlv', '/1/0', buf)));"
            )
            values = json.loads(decoded)
            assert values["shortServerId"] == 7 and values["lifetime"] == 333

            registered = server.wait_for_registration(EP, WAIT)
            assert await coap_client(*send, "-m", "post", f"{target}/bs") == "2.04"
            registration = await registered
            assert registration.lifetime == 333 and registration.binding == "U"
            assert device.bootstrap.state is BootstrapState.DONE
        finally:
            await device.stop()
