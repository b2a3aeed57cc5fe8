"""Interop with libcoap's ``coap-client-notls`` (Debian libcoap3-bin, installed by
scripts/install-tools.sh): GET/PUT/POST with Accept, Content-Format and payloads, block-wise
in both directions, NON, and observe, against a CoapEndpoint with a small handler."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiocoap import Message
from aiocoap.numbers.codes import Code

from fleet.client.coap import CoapEndpoint

CLIENT = shutil.which("coap-client-notls")

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.interop,
    pytest.mark.skipif(
        CLIENT is None,
        reason="coap-client-notls not on PATH: run scripts/install-tools.sh (Debian libcoap3-bin)",
    ),
]

RUN_TIMEOUT = 20.0
BIG = bytes(65 + i % 26 for i in range(3000))


class Device:
    """/value: text/plain (0) and JSON (50) readable, writable in text; /exec: POST echoes;
    /big: 3000 bytes; /obs: observable."""

    def __init__(self) -> None:
        self.value = b"Open Mobile Alliance"
        self.requests: list[Any] = []
        self.endpoint: CoapEndpoint | None = None

    def __call__(self, request: Any) -> Any:
        self.requests.append(request)
        path = request.opt.uri_path
        if path == ("value",):
            if request.code == Code.GET:
                accept = request.opt.accept
                if accept in (None, 0):
                    return Message(code=Code.CONTENT, payload=self.value, content_format=0)
                if accept == 50:
                    body = b'{"v":"' + self.value + b'"}'
                    return Message(code=Code.CONTENT, payload=body, content_format=50)
                return Message(code=Code.NOT_ACCEPTABLE)
            if request.code == Code.PUT:
                if request.opt.content_format != 0:
                    return Message(code=Code.UNSUPPORTED_CONTENT_FORMAT)
                self.value = request.payload
                return Message(code=Code.CHANGED)
            return Message(code=Code.METHOD_NOT_ALLOWED)
        if path == ("exec",) and request.code == Code.POST:
            return Message(code=Code.CHANGED, payload=b"executed:" + request.payload)
        if path == ("big",):
            if request.code == Code.PUT:
                self.value = request.payload
                return Message(code=Code.CHANGED)
            return Message(code=Code.CONTENT, payload=BIG)
        if path == ("obs",):
            response = Message(code=Code.CONTENT, payload=b"n0")
            if request.opt.observe == 0:
                response.opt.observe = 0
                asyncio.get_running_loop().create_task(self.notify_later(request))
            return response
        return Message(code=Code.NOT_FOUND, payload=b"no such resource")

    async def notify_later(self, request: Any) -> None:
        assert self.endpoint is not None
        for number in (1, 2, 3):
            await asyncio.sleep(0.1)  # pacing for the external client, not a wait for a result
            note = Message(code=Code.CONTENT, payload=b"n%d" % number)
            sent = self.endpoint.notify(
                request.remote, request.token, note, confirmable=number == 2
            )
            assert await sent


@pytest_asyncio.fixture
async def device() -> AsyncIterator[tuple[Device, str]]:
    handler = Device()
    endpoint = await CoapEndpoint.bind("127.0.0.1", handler=handler)
    handler.endpoint = endpoint
    try:
        yield handler, f"coap://127.0.0.1:{endpoint.address[1]}"
    finally:
        endpoint.close()


async def coap_client(*args: str) -> tuple[bytes, bytes]:
    """Run coap-client-notls (bounded in time); its stdout (payload) and stderr (codes)."""
    assert CLIENT is not None
    process = await asyncio.create_subprocess_exec(
        CLIENT,
        "-B",
        "10",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), RUN_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise
    return out, err


@pytest.mark.parametrize(
    ("accept", "out", "err"),
    [
        ("0", b"Open Mobile Alliance", b""),
        ("50", b'{"v":"Open Mobile Alliance"}', b""),
        ("60", b"", b"4.06"),
    ],
)
async def test_get_with_accept(device: Any, accept: str, out: bytes, err: bytes) -> None:
    _, base = device
    stdout, stderr = await coap_client("-m", "get", "-A", accept, f"{base}/value")
    assert stdout.strip() == out
    assert stderr.strip().startswith(err)


async def test_put_with_content_format_then_read_back(device: Any) -> None:
    handler, base = device
    _, stderr = await coap_client("-m", "put", "-t", "0", "-e", "Hello", f"{base}/value")
    assert stderr.strip() == b""
    assert handler.value == b"Hello"
    assert handler.requests[-1].opt.content_format == 0
    stdout, _ = await coap_client("-m", "get", f"{base}/value")
    assert stdout.strip() == b"Hello"
    _, stderr = await coap_client("-m", "put", "-t", "60", "-e", "x", f"{base}/value")
    assert stderr.strip().startswith(b"4.15")
    assert handler.value == b"Hello"


async def test_post_with_payload_and_error_codes(device: Any) -> None:
    _, base = device
    stdout, _ = await coap_client("-m", "post", "-t", "0", "-e", "args", f"{base}/exec")
    assert stdout.strip() == b"executed:args"
    _, stderr = await coap_client("-m", "delete", f"{base}/value")
    assert stderr.strip().startswith(b"4.05")
    _, stderr = await coap_client("-m", "get", f"{base}/missing")
    assert stderr.strip() == b"4.04 no such resource"


async def test_non_confirmable_get(device: Any) -> None:
    handler, base = device
    stdout, _ = await coap_client("-m", "get", "-N", f"{base}/value")
    assert stdout.strip() == b"Open Mobile Alliance"
    assert handler.requests[-1].mtype == 1


async def test_block2_download_and_block1_upload(device: Any, tmp_path: Path) -> None:
    handler, base = device
    stdout, _ = await coap_client("-m", "get", f"{base}/big")
    assert stdout.strip() == BIG
    stdout, _ = await coap_client("-m", "get", "-b", "64", f"{base}/big")
    assert stdout.strip() == BIG
    upload = tmp_path / "upload.txt"
    upload.write_bytes(bytes(97 + i % 26 for i in range(2500)))
    _, stderr = await coap_client(
        "-m", "put", "-t", "0", "-b", "256", "-f", str(upload), f"{base}/big"
    )
    assert stderr.strip() == b""
    assert handler.value == upload.read_bytes()


async def test_large_post_response_is_served_from_the_held_copy(
    device: Any, tmp_path: Path
) -> None:
    handler, base = device
    upload = tmp_path / "args.txt"
    upload.write_bytes(b"z" * 2000)
    stdout, stderr = await coap_client("-m", "post", "-t", "0", "-f", str(upload), f"{base}/exec")
    assert stderr.strip() == b""
    assert stdout.strip() == b"executed:" + b"z" * 2000
    assert sum(1 for r in handler.requests if r.opt.uri_path == ("exec",)) == 1


async def test_observe(device: Any) -> None:
    handler, base = device
    stdout, _ = await coap_client("-m", "get", "-s", "2", f"{base}/obs")
    assert stdout.replace(b"\n", b"") == b"n0n1n2n3"
    observes = [r.opt.observe for r in handler.requests if r.opt.uri_path == ("obs",)]
    assert observes == [0, 1]  # registration, then libcoap's deregistration at the end
    assert handler.endpoint is not None and handler.endpoint.observer_count == 0
