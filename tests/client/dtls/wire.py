"""A UDP relay between a DTLS client and a server that decodes the record headers it
carries (RFC 6347 §4.1: content type, epoch, length) and the plaintext alerts (epoch 0:
level, description), so a test can say what a server really sent: an alert, or nothing.

It is the capture of these tests (no tshark here): every datagram in either direction is
split into its records and kept in order. Loopback only.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

ALERT = 21
HANDSHAKE = 22
HEADER = 13


@dataclass(frozen=True)
class Record:
    """One DTLS record seen on the wire: from the server or the client."""

    from_server: bool
    content_type: int
    epoch: int
    body: bytes

    @property
    def alert(self) -> tuple[int, int] | None:
        """(level, description) of a plaintext alert; ``None`` for anything else (an
        encrypted alert cannot be read, but its content type still says it is one)."""
        if self.content_type != ALERT or self.epoch != 0 or len(self.body) != 2:
            return None
        return self.body[0], self.body[1]


def records(data: bytes, from_server: bool) -> list[Record]:
    """The records of one datagram (a truncated tail is ignored)."""
    found: list[Record] = []
    at = 0
    while at + HEADER <= len(data):
        length = int.from_bytes(data[at + 11 : at + 13], "big")
        epoch = int.from_bytes(data[at + 3 : at + 5], "big")
        body = data[at + HEADER : at + HEADER + length]
        found.append(Record(from_server, data[at], epoch, body))
        at += HEADER + length
    return found


class Relay(asyncio.DatagramProtocol):
    """Forwards datagrams between the one client that talks to it and ``server``."""

    def __init__(self, server: tuple[str, int]) -> None:
        self.server = server
        self.client: Any = None
        self.seen: list[Record] = []
        self.changed = asyncio.Event()
        self.transport: Any = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        from_server = addr[:2] == self.server
        self.seen.extend(records(data, from_server))
        self.changed.set()
        if from_server:
            if self.client is not None:
                self.transport.sendto(data, self.client)
        else:
            self.client = addr
            self.transport.sendto(data, self.server)

    def address(self) -> tuple[str, int]:
        host, port = self.transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    def server_alerts(self) -> list[Record]:
        """Every alert record the server sent (plaintext or encrypted)."""
        return [r for r in self.seen if r.from_server and r.content_type == ALERT]

    def client_sent_encrypted(self) -> int:
        """Records of epoch 1 the client sent: its Finished, once per (re)transmission."""
        return sum(1 for r in self.seen if not r.from_server and r.epoch >= 1)

    async def until(self, condition: Any) -> None:
        """Wait (bounded by the caller) until ``condition()`` holds for what was seen."""
        while not condition():
            self.changed.clear()
            await self.changed.wait()

    def close(self) -> None:
        self.transport.close()


async def open_relay(server: tuple[str, int]) -> Relay:
    """A relay on 127.0.0.1 (a free port) in front of ``server``."""
    loop = asyncio.get_running_loop()
    _, relay = await loop.create_datagram_endpoint(
        lambda: Relay(server), local_addr=("127.0.0.1", 0)
    )
    return relay
