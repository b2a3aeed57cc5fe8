"""Block-wise transfers (RFC 7959) as pure helpers: sizes, slicing, reassembly bounds.

Server role Block2 is stateless: the handler is run again for every block and
the response body sliced here, with an ETag derived from the body so that a
client notices when the representation changed between blocks. Client role
Block2 reassembly and server role Block1 assembly are bounded in total size;
:class:`Block1Assembler` also bounds how many transfers are open and how old.
"""

from __future__ import annotations

import zlib
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

MAX_SZX = 6  # 1024 bytes; 7 is BERT, reserved for reliable transports (RFC 8323)


def block_size(szx: int) -> int:
    """Bytes per block for a size exponent (BERT's 7 is treated as 6)."""
    return 1 << (min(szx, MAX_SZX) + 4)


def negotiate_szx(preferred: int, requested: int | None) -> int:
    """The size exponent to use: ours, or the peer's if it asked for smaller blocks."""
    if requested is None:
        return min(preferred, MAX_SZX)
    return min(preferred, requested, MAX_SZX)


def needs_blocks(payload_length: int, szx: int) -> bool:
    """Whether a body of that length must be sent in blocks of that size."""
    return payload_length > block_size(szx)


def slice_block(payload: bytes, number: int, szx: int) -> tuple[bytes, bool] | None:
    """Block ``number`` of ``payload`` and whether more follow; ``None`` if out of range.

    Block 0 of an empty body is the empty body.
    """
    size = block_size(szx)
    start = number * size
    if number < 0 or (start >= len(payload) and number > 0):
        return None
    end = start + size
    return payload[start:end], end < len(payload)


def body_etag(payload: bytes) -> bytes:
    """A short ETag identifying a representation (CRC-32 of the body, 4 bytes)."""
    return zlib.crc32(payload).to_bytes(4, "big")


@dataclass(frozen=True, slots=True)
class Block1Outcome:
    """What to answer to one Block1 request.

    ``code`` is ``None`` when the body is complete (then ``body`` is the whole
    body); 2.31 Continue while more blocks are awaited; an error code otherwise
    (4.08 out of sequence, 4.13 too large, 4.00 malformed).
    """

    code: int | None
    body: bytes = b""
    szx: int = MAX_SZX


CONTINUE = 95  # 2.31
BAD_REQUEST = 128  # 4.00
REQUEST_ENTITY_INCOMPLETE = 136  # 4.08
REQUEST_ENTITY_TOO_LARGE = 141  # 4.13


class _Transfer:
    __slots__ = ("body", "stamp", "szx")

    def __init__(self, stamp: float, szx: int) -> None:
        self.body = bytearray()
        self.stamp = stamp
        self.szx = szx


class Block1Assembler:
    """Open incoming Block1 transfers, bounded in number, age and body size."""

    __slots__ = ("_transfers", "max_age", "max_body", "max_transfers", "preferred_szx")

    def __init__(self, *, max_transfers: int, max_body: int, max_age: float, szx: int) -> None:
        self.max_transfers = max_transfers
        self.max_body = max_body
        self.max_age = max_age
        self.preferred_szx = szx
        self._transfers: OrderedDict[Hashable, _Transfer] = OrderedDict()

    def __len__(self) -> int:
        return len(self._transfers)

    def _expire(self, now: float) -> None:
        transfers = self._transfers
        while transfers:
            key, transfer = next(iter(transfers.items()))
            if now - transfer.stamp <= self.max_age:
                return
            del transfers[key]

    def feed(
        self,
        key: Hashable,
        number: int,
        more: bool,
        szx: int,
        payload: bytes,
        now: float,
        size1: int | None = None,
    ) -> Block1Outcome:
        """Take one block of the transfer identified by ``key``."""
        self._expire(now)
        szx = min(szx, MAX_SZX)
        size = block_size(szx)
        if more and len(payload) != size:
            self._transfers.pop(key, None)
            return Block1Outcome(BAD_REQUEST)
        if not more and len(payload) > size:
            self._transfers.pop(key, None)
            return Block1Outcome(BAD_REQUEST)
        if size1 is not None and size1 > self.max_body:
            self._transfers.pop(key, None)
            return Block1Outcome(REQUEST_ENTITY_TOO_LARGE)
        transfer = self._transfers.get(key)
        if number == 0:
            if transfer is not None:
                del self._transfers[key]
            if not more:
                return Block1Outcome(None, payload, szx)
            while len(self._transfers) >= self.max_transfers:
                self._transfers.popitem(last=False)
            transfer = _Transfer(now, szx)
            self._transfers[key] = transfer
        elif transfer is None or number * size != len(transfer.body):
            self._transfers.pop(key, None)
            return Block1Outcome(REQUEST_ENTITY_INCOMPLETE)
        if len(transfer.body) + len(payload) > self.max_body:
            self._transfers.pop(key, None)
            return Block1Outcome(REQUEST_ENTITY_TOO_LARGE)
        transfer.body += payload
        transfer.stamp = now
        self._transfers.move_to_end(key)
        if more:
            return Block1Outcome(CONTINUE, b"", min(szx, self.preferred_szx))
        del self._transfers[key]
        return Block1Outcome(None, bytes(transfer.body), szx)
