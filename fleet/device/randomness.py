"""A device's own random source, small enough for 100,000 devices in one process.

A :class:`random.Random` carries the whole Mersenne Twister state: 2,560 bytes
per object (``sys.getsizeof``), a quarter of what a registered, idle fleet
device costs otherwise. What a device draws from its ``"device"`` stream is
little — the first CoAP message id and token, the ACK-timeout jitter of each
confirmable message, a few values of object behaviours (signal fading, random
instances) — so :class:`CompactRandom` draws them from SplitMix64 (Steele,
Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014):
one 64-bit integer of state, ~80 bytes per device. It is deterministic from
its seed like :class:`random.Random`, and offers the part of its interface a
device uses (:class:`Rng`, which :class:`random.Random` satisfies as well).

Value generators (``"values"`` stream) keep :class:`random.Random`: they use
its distributions (Gaussian, exponential ...).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Protocol, TypeVar

T = TypeVar("T")

_MASK: Final = (1 << 64) - 1
_GOLDEN: Final = 0x9E3779B97F4A7C15
_MIX1: Final = 0xBF58476D1CE4E5B9
_MIX2: Final = 0x94D049BB133111EB
_UNIT: Final = 2.0**-53


class Rng(Protocol):
    """What a device, its CoAP endpoint and its objects draw from their random source."""

    def random(self) -> float: ...

    def getrandbits(self, k: int, /) -> int: ...

    def randbytes(self, n: int, /) -> bytes: ...

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int: ...

    def randint(self, a: int, b: int) -> int: ...

    def uniform(self, a: float, b: float) -> float: ...

    def choice(self, seq: Sequence[T]) -> T: ...


class CompactRandom:
    """SplitMix64 with the :class:`Rng` interface (see the module docstring)."""

    __slots__ = ("_state",)

    def __init__(self, seed: int) -> None:
        self._state = seed & _MASK

    def _next(self) -> int:
        self._state = state = (self._state + _GOLDEN) & _MASK
        z = ((state ^ (state >> 30)) * _MIX1) & _MASK
        z = ((z ^ (z >> 27)) * _MIX2) & _MASK
        return z ^ (z >> 31)

    def random(self) -> float:
        """A float in [0.0, 1.0) with 53 random bits."""
        return (self._next() >> 11) * _UNIT

    def getrandbits(self, k: int, /) -> int:
        """A non-negative integer of ``k`` random bits."""
        if k < 0:
            raise ValueError("number of bits must be non-negative")
        value, have = 0, 0
        while have < k:
            value = (value << 64) | self._next()
            have += 64
        return value >> (have - k)

    def randbytes(self, n: int, /) -> bytes:
        return self.getrandbits(n * 8).to_bytes(n, "little")

    def _below(self, n: int) -> int:
        """An integer in [0, n), without modulo bias (rejection sampling)."""
        if n <= 0:
            raise ValueError("empty range")
        bits = n.bit_length()
        value = self.getrandbits(bits)
        while value >= n:
            value = self.getrandbits(bits)
        return value

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if stop is None:
            start, stop = 0, start
        if step == 0:
            raise ValueError("zero step for randrange()")
        count = (stop - start + step - (1 if step > 0 else -1)) // step
        if count <= 0:
            raise ValueError(f"empty range in randrange({start}, {stop}, {step})")
        return start + step * self._below(count)

    def randint(self, a: int, b: int) -> int:
        return self.randrange(a, b + 1)

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.random()

    def choice(self, seq: Sequence[T]) -> T:
        if not seq:
            raise IndexError("cannot choose from an empty sequence")
        return seq[self._below(len(seq))]
