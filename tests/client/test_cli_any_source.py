"""``fleet device --any-source``: a request from a stranger is answered only with the flag.

A real ``fleet device`` process registers with the fake server; a bare socket that is not
the server sends it a GET, then the server reads too. The device handles datagrams in the
order they come, and loopback delivers a reply to the stranger's socket as it is sent: when
the server has its answer, the stranger has one too, or never will.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys

import pytest

from fleet.client.coap.wire import CON, Message, encode

from .fakes import GET, FakeServer
from .test_cli_device import PROCESS_WAIT, _line_with

pytestmark = pytest.mark.asyncio

CONTENT = 69  # 2.05


def _stranger_get() -> bytes:
    return encode(CON, GET, 4711, b"rig", Message(code=GET, uri_path=("3", "0", "0")).opt, b"")


@pytest.mark.parametrize("any_source", [True, False], ids=["any-source", "default"])
async def test_a_stranger_is_answered_only_with_any_source(
    server: FakeServer, any_source: bool
) -> None:
    endpoint = f"rig-{int(any_source)}"
    flags = ["--any-source"] if any_source else []
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "fleet.cli.device", "--server", server.uri, "--endpoint", endpoint, *flags),
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stderr is not None
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        line = await _line_with(process.stderr, "listening on ")
        found = re.search(r"listening on ([\d.]+):(\d+)", line)
        assert found is not None, line
        await server.next("register", PROCESS_WAIT)
        stranger.bind(("127.0.0.1", 0))
        stranger.sendto(_stranger_get(), (found[1], int(found[2])))
        read = await server.request(endpoint, GET, "/3/0/0")
        assert int(read.code) == CONTENT  # the device had the stranger's GET before this one
        try:
            reply: bytes | None = stranger.recv(2048, socket.MSG_DONTWAIT)
        except BlockingIOError:
            reply = None
        if any_source:
            assert reply is not None and reply[1] == CONTENT and reply.endswith(b"lwm2m-fleet")
        else:
            assert reply is None, "a device without --any-source answered a stranger"
    finally:
        stranger.close()
        if process.returncode is None:
            process.kill()
            await process.wait()
