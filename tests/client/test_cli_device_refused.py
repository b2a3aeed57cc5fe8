"""``fleet device`` logs why a Register failed as it happens (issue 14): a 4.xx with its code
and the server's diagnostic payload, and a DTLS handshake that fails (against libcoap's
``coap-server-openssl`` with another key), each followed by the retry the back-off sets."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from aiocoap import Message
from aiocoap.numbers.codes import Code
from aiocoap.numbers.types import Type

from fleet.client.fleet_ca import SERVER_FILE, SERVER_KEY, FleetCa

from .dtls.helpers import free_port_pair, libcoap_server, requires_dtls
from .test_cli_device import _line_with
from .test_cli_device_dead import _device, _stop

pytestmark = pytest.mark.asyncio

DIAGNOSTIC = b"lt must be at least 60"


class Refuser(asyncio.DatagramProtocol):
    """A server that answers every confirmable request 4.00 with a diagnostic payload."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport: Any = transport

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        with contextlib.suppress(Exception):
            request = Message.decode(data)
            if request.mtype == Type.CON:
                answer = Message(
                    code=Code.BAD_REQUEST,
                    payload=DIAGNOSTIC,
                    _mtype=Type.ACK,
                    _mid=request.mid,
                    _token=request.token,
                )
                self.transport.sendto(answer.encode(), addr)


async def test_a_refused_register_is_logged_with_its_code_and_diagnostic() -> None:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(Refuser, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    process = await _device(f"coap://127.0.0.1:{port}")
    assert process.stderr is not None
    try:
        line = await _line_with(process.stderr, "Register failed")
        assert "answered 4.00 Bad Request: 'lt must be at least 60'; retry in 60 s" in line
    finally:
        code = await _stop(process)
        transport.close()
    assert code == 130


@requires_dtls
@pytest.mark.interop
@pytest.mark.skipif(not shutil.which("coap-server-openssl"), reason="scripts/install-tools.sh")
async def test_a_failed_dtls_handshake_is_logged_once_with_the_reason() -> None:
    async with libcoap_server("coap-server-openssl", free_port_pair(), ["-k", "secretPSK"]) as at:
        process = await asyncio.create_subprocess_exec(
            *_device_command(f"coaps://127.0.0.1:{at[1]}"),
            stderr=asyncio.subprocess.PIPE,
        )
        assert process.stderr is not None
        try:
            line = await _line_with(process.stderr, "DTLS handshake with")
            assert line.startswith(f"dtls-1: DTLS handshake with 127.0.0.1:{at[1]} as 'dtls-1'")
            assert "handshake timeout after 2 s, no alert" in line
            assert "wrong key or identity" in line
            assert line.count("DTLS handshake with") == 1  # not "... failed: DTLS handshake..."
            failed = await _line_with(process.stderr, "Register failed")
            assert "retry in 60 s" in failed
        finally:
            code = await _stop(process)
    assert code == 130


@requires_dtls
@pytest.mark.interop
@pytest.mark.skipif(not shutil.which("coap-server-openssl"), reason="scripts/install-tools.sh")
async def test_an_alert_from_the_server_is_logged_as_it_arrives(tmp_path: Path) -> None:
    """libcoap with certificates only answers a PSK hello with a fatal handshake_failure:
    the line names the alert, long before the 1 h handshake timeout could run out."""
    ca = FleetCa.create(tmp_path)
    args = ["-c", str(ca.directory / SERVER_FILE), "-j", str(ca.directory / SERVER_KEY)]
    async with libcoap_server("coap-server-openssl", free_port_pair(), args) as at:
        command = _device_command(f"coaps://127.0.0.1:{at[1]}")
        process = await asyncio.create_subprocess_exec(
            *command[:-1], "1h", stderr=asyncio.subprocess.PIPE
        )
        assert process.stderr is not None
        try:
            line = await _line_with(process.stderr, "DTLS handshake with")
            assert line.startswith(f"dtls-1: DTLS handshake with 127.0.0.1:{at[1]} as 'dtls-1'")
            assert line.rstrip().endswith(": DTLS alert 40 (handshake_failure) received")
            failed = await _line_with(process.stderr, "Register failed")
            assert "DTLS alert 40 (handshake_failure) received" in failed
            assert "retry in 60 s" in failed
        finally:
            code = await _stop(process)
    assert code == 130


def _device_command(server: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "fleet.cli.device",
        "--server",
        server,
        "--endpoint",
        "dtls-1",
        "--psk-identity",
        "dtls-1",
        "--psk-key",
        "hex:" + b"another key".hex(),
        "--handshake-timeout",
        "2s",
    ]
