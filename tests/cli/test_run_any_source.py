"""``fleet run --any-source``: the fleet's devices answer a stranger only with the flag.

A real ``fleet run`` process (with the flag: 2 worker processes, so the setting crosses
into them) registers with the embedded server; a bare socket that is not the server GETs
a device, then the server reads it. The device handles datagrams in order and loopback
delivers a reply as it is sent: when the server has its answer, the stranger has one too,
or never will. Ctrl-C ends the run.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import signal
import socket
import sys

import pytest

from fleet.client.coap.wire import CON, Message, encode
from fleet.server import Lwm2mServer

from .test_run import write

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

SCENARIO = """
version: 1
seed: 4
duration: 10m
groups:
  - count: 2
    endpoint: "rig-{index}"
"""
WAIT = 30.0
CONTENT = 69  # 2.05
GET = 1


@pytest.mark.parametrize(
    ("flags", "answered"),
    [(["--any-source", "--workers", "2"], True), (["--workers", "1"], False)],
    ids=["any-source", "default"],
)
async def test_a_stranger_is_answered_only_with_any_source(
    tmp_path: pathlib.Path, flags: list[str], answered: bool
) -> None:
    path = write(tmp_path, SCENARIO)
    async with await Lwm2mServer.start() as server:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-c", "from fleet.cli import main; main()", "run", str(path)),
            *("--server", server.uri, "--quiet", *flags),
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=asyncio.subprocess.DEVNULL,
        )
        stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            registration = await server.wait_for_registration("rig-1", WAIT)
            stranger.bind(("127.0.0.1", 0))
            options = Message(code=GET, uri_path=("3", "0", "0")).opt
            stranger.sendto(encode(CON, GET, 4712, b"rig", options, b""), registration.address)
            read = await server.read("rig-1", "/3/0/0", timeout=WAIT)
            assert read.code == "2.05"  # the device had the stranger's GET before this one
            try:
                reply: bytes | None = stranger.recv(2048, socket.MSG_DONTWAIT)
            except BlockingIOError:
                reply = None
            if answered:
                assert reply is not None and reply[1] == CONTENT
            else:
                assert reply is None, "a device of a run without --any-source answered"
            process.send_signal(signal.SIGINT)
            assert await asyncio.wait_for(process.wait(), WAIT) == 130
        finally:
            stranger.close()
            if process.returncode is None:
                process.kill()
                await process.wait()
