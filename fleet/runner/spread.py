"""The "spread" arrival order: a permutation of device indexes whose every prefix is even.

With contiguous shard ranges, arrivals in index order keep the last shards
idle while the first ones take the whole ramp. :class:`SpreadOrder` cuts the
indexes into up to :data:`BLOCKS` contiguous blocks and lets the k-th arrival
come from block ``order[k mod blocks]`` (blocks visited in bit-reversed,
van der Corput order), taking the blocks' devices front to back. Any prefix of
the arrivals therefore falls on every contiguous range — every shard — in
proportion to its size, whatever the shard count; the permutation depends on
the device count only, so a run replays the same on any shard layout.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Final

BLOCKS: Final = 256


def visit_order(blocks: int) -> list[int]:
    """Every block once, in van der Corput order (0, half, quarter, three quarters ...)."""
    size = 1
    while size < blocks:
        size *= 2
    bits = size.bit_length() - 1
    seen: set[int] = set()
    order: list[int] = []
    for slot in range(size):
        reversed_slot = int(format(slot, f"0{bits}b")[::-1], 2) if bits else 0
        block = reversed_slot * blocks // size
        if block not in seen:
            seen.add(block)
            order.append(block)
    return order


class SpreadOrder:
    """Arrival rank <-> device index for ``count`` devices (``count >= 1``)."""

    __slots__ = ("_blocks", "_large", "_large_position", "_order", "_position", "_round", "_starts")

    def __init__(self, count: int) -> None:
        blocks = max(1, min(count, BLOCKS))
        self._blocks = blocks
        self._starts = [b * count // blocks for b in range(blocks + 1)]
        self._order = visit_order(blocks)
        self._position = [0] * blocks
        for i, block in enumerate(self._order):
            self._position[block] = i
        self._round = count // blocks  # every block has this many devices, some one more
        self._large = [b for b in self._order if self._size(b) > self._round]
        self._large_position = {b: i for i, b in enumerate(self._large)}

    def _size(self, block: int) -> int:
        return self._starts[block + 1] - self._starts[block]

    def index_of(self, rank: int) -> int:
        full = self._round * self._blocks
        if rank < full:
            depth, slot = divmod(rank, self._blocks)
            return self._starts[self._order[slot]] + depth
        return self._starts[self._large[rank - full]] + self._round

    def rank_of(self, index: int) -> int:
        block = bisect_right(self._starts, index) - 1
        depth = index - self._starts[block]
        if depth < self._round:
            return depth * self._blocks + self._position[block]
        return self._round * self._blocks + self._large_position[block]
