"""HTTP file servers we did not write, run for the firmware tests, and a cutting proxy.

- :func:`http_server`: ``python -m http.server`` (the standard library's file server, no
  Range support) on an ephemeral port of 127.0.0.1, serving a folder;
- :func:`https_server`: the same handler behind TLS with a self-signed certificate made
  with ``cryptography`` (``python -m http.server`` has no TLS switch before 3.14: the
  few lines that wrap its socket are in :data:`HTTPS_SCRIPT`);
- :func:`aiohttp_static`: aiohttp's static file route (Range requests, 206);
- :class:`CuttingProxy`: a TCP proxy of ours in front of one of them that closes the
  first connection after N bytes of answer — a lost link, for the resume tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import pathlib
import sys
from collections.abc import AsyncIterator

from aiohttp import web

HTTPS_SCRIPT = """
import functools, http.server, ssl, sys
cert, key, folder = sys.argv[1:4]
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=folder)
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
server.socket = context.wrap_socket(server.socket, server_side=True)
print("port", server.server_address[1], flush=True)
server.serve_forever()
"""
WAIT = 20.0


@contextlib.asynccontextmanager
async def _serving(*args: str) -> AsyncIterator[int]:
    """Run ``python args``; its first stdout line that names a port says where it listens."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-u",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), WAIT)).decode()
        words = line.replace("(", " ").split()
        port = int(words[words.index("port") + 1])
        yield port
    finally:
        if process.returncode is None:
            process.terminate()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 5.0)
            if process.returncode is None:
                process.kill()
                await process.wait()


@contextlib.asynccontextmanager
async def http_server(folder: pathlib.Path) -> AsyncIterator[int]:
    """``python -m http.server`` on 127.0.0.1 (an ephemeral port), serving ``folder``."""
    async with _serving(
        "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", str(folder)
    ) as port:
        yield port


def self_signed(folder: pathlib.Path, name: str = "127.0.0.1") -> tuple[pathlib.Path, pathlib.Path]:
    """A self-signed EC P-256 certificate for the IP ``name`` (subjectAltName), and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(name))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "server.crt", folder / "server.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@contextlib.asynccontextmanager
async def https_server(
    folder: pathlib.Path, cert: pathlib.Path, key: pathlib.Path
) -> AsyncIterator[int]:
    """The standard library's file server over TLS on 127.0.0.1 (an ephemeral port)."""
    async with _serving("-c", HTTPS_SCRIPT, str(cert), str(key), str(folder)) as port:
        yield port


@contextlib.asynccontextmanager
async def aiohttp_static(folder: pathlib.Path) -> AsyncIterator[int]:
    """aiohttp's static file route (Range requests answered 206) on 127.0.0.1."""
    app = web.Application()
    app.router.add_static("/", folder)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        server = site._server
        assert server is not None
        yield int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]
    finally:
        await runner.cleanup()


class CuttingProxy:
    """Forwards TCP to ``upstream``; the first connection is cut after ``cut_after`` bytes
    of answer. Keeps each connection's request head and the answer bytes it carried."""

    def __init__(self, upstream: int, cut_after: int) -> None:
        self.upstream = upstream
        self.cut_after = cut_after
        self.requests: list[bytes] = []
        self.carried: list[int] = []
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def __aenter__(self) -> CuttingProxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        number = len(self.requests)
        self.requests.append(b"")
        self.carried.append(0)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream)

        async def forward_requests() -> None:
            while data := await reader.read(65536):
                self.requests[number] += data
                up_writer.write(data)
                await up_writer.drain()

        ahead = asyncio.ensure_future(forward_requests())
        try:
            limit = self.cut_after if number == 0 else None
            while data := await up_reader.read(4096):
                if limit is not None and self.carried[number] + len(data) >= limit:
                    writer.write(data[: limit - self.carried[number]])
                    self.carried[number] = limit
                    await writer.drain()
                    break
                self.carried[number] += len(data)
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            ahead.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await ahead
            for w in (writer, up_writer):
                w.close()
                with contextlib.suppress(ConnectionError):
                    await w.wait_closed()
