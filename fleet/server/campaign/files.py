"""A CoAP file server for firmware images: GET with Block2, one copy per image.

The images are registered by name (``add("fw.bin", data)``) and served at
``coap://HOST:PORT/fw/<name>``. Every block request runs the handler, which
answers the same ``bytes`` object: the endpoint slices the block out of it
(RFC 7959, stateless server role), so 10,000 devices downloading one image
cost one copy of it. The ETag is worked out once per image. Counters tell
the blocks and bytes served (the benchmark's "file server rate").
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Final

from fleet.client.coap import Address, CoapEndpoint, EndpointLimits
from fleet.client.coap.wire import Message
from fleet.clock import Clock

GET: Final = 1
CONTENT, NOT_FOUND, NOT_ALLOWED = 69, 132, 133
OCTET_STREAM: Final = 42
PREFIX: Final = "fw"


@dataclass(frozen=True, slots=True)
class _Image:
    data: bytes
    etag: bytes


class FileServer:
    """Serves firmware images over CoAP (see the module docstring)."""

    __slots__ = ("_endpoint", "_images", "blocks_served", "bytes_served", "requests")

    def __init__(self) -> None:
        self._images: dict[str, _Image] = {}
        self._endpoint: CoapEndpoint | None = None
        self.requests = 0
        self.blocks_served = 0
        self.bytes_served = 0
        """Block payload bytes answered (an estimate from each request's Block2 option)."""

    @classmethod
    async def start(
        cls, host: str = "127.0.0.1", port: int = 0, *, clock: Clock | None = None
    ) -> FileServer:
        """Bind a file server (port 0: an ephemeral port)."""
        server = cls()
        server._endpoint = await CoapEndpoint.bind(
            host,
            port,
            handler=server._handle,
            clock=clock,
            limits=EndpointLimits(dedup_max_entries=4096, dedup_max_age=30.0),
            receive_buffer=4 * 1024 * 1024,
        )
        return server

    @property
    def address(self) -> Address:
        assert self._endpoint is not None, "the file server is not started"
        return self._endpoint.address

    def add(self, name: str, data: bytes) -> str:
        """Serve ``data`` as ``name``; answers its ``coap://`` URI."""
        if not name or "/" in name:
            raise ValueError(f"an image name is one path segment, got {name!r}")
        self._images[name] = _Image(bytes(data), zlib.crc32(data).to_bytes(4, "big"))
        return self.uri(name)

    def uri(self, name: str) -> str:
        host, port = self.address[0], self.address[1]
        shown = f"[{host}]" if ":" in host else host
        return f"coap://{shown}:{port}/{PREFIX}/{name}"

    def _handle(self, request: Any) -> Any:
        self.requests += 1
        path = tuple(request.opt.uri_path)
        image = self._images.get(path[1]) if len(path) == 2 and path[0] == PREFIX else None
        if image is None:
            return Message(code=NOT_FOUND)
        if int(request.code) != GET:
            return Message(code=NOT_ALLOWED)
        response = Message(code=CONTENT, payload=image.data)
        response.opt.content_format = OCTET_STREAM
        response.opt.etag = image.etag
        block2 = request.opt.block2
        size = 1024 if block2 is None else 1 << (min(block2.size_exponent, 6) + 4)
        start = 0 if block2 is None else block2.block_number * size
        self.blocks_served += 1
        self.bytes_served += max(0, min(size, len(image.data) - start))
        return response

    def close(self) -> None:
        if self._endpoint is not None:
            self._endpoint.close()
            self._endpoint = None
