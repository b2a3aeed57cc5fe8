"""CompactRandom: the small random source of each fleet device (SplitMix64)."""

from __future__ import annotations

import random
import sys
from collections import Counter

import pytest

from fleet.device.generators import device_compact_rng, device_rng
from fleet.device.randomness import CompactRandom, Rng


def test_splitmix64_reference_outputs() -> None:
    # the published SplitMix64 sequence for seed 0 (Vigna's reference splitmix64.c)
    rng = CompactRandom(0)
    assert [rng.getrandbits(64) for _ in range(3)] == [
        0xE220A8397B1DCDAF,
        0x6E789E6AA1B965F4,
        0x06C45D188009454F,
    ]


def test_the_same_seed_draws_the_same_and_another_seed_differs() -> None:
    first, again, other = CompactRandom(42), CompactRandom(42), CompactRandom(43)
    draws = [first.getrandbits(16) for _ in range(20)]
    assert draws == [again.getrandbits(16) for _ in range(20)]
    assert draws != [other.getrandbits(16) for _ in range(20)]


def test_device_streams_are_stable_and_separate() -> None:
    a = device_compact_rng(7, 3, "device").getrandbits(32)
    assert a == device_compact_rng(7, 3, "device").getrandbits(32)
    assert a != device_compact_rng(7, 4, "device").getrandbits(32)
    assert a != device_compact_rng(7, 3, "values").getrandbits(32)


def test_it_is_a_fraction_of_a_mersenne_twister() -> None:
    compact = device_compact_rng(1, 1, "device")
    state = compact._state
    assert sys.getsizeof(compact) + sys.getsizeof(state) < 128
    assert sys.getsizeof(device_rng(1, 1, "device")) > 2000


@pytest.mark.parametrize("bits", [0, 1, 16, 32, 63, 64, 65, 200])
def test_getrandbits_stays_within_its_width(bits: int) -> None:
    rng = CompactRandom(5)
    values = [rng.getrandbits(bits) for _ in range(200)]
    assert all(0 <= v < (1 << bits) or (bits == 0 and v == 0) for v in values)
    if bits >= 16:
        assert max(values).bit_length() >= bits - 8  # the top bits are used


def test_ranges_and_choices_cover_their_whole_span_evenly() -> None:
    rng = CompactRandom(9)
    counts = Counter(rng.randint(-2, 2) for _ in range(5000))
    assert set(counts) == {-2, -1, 0, 1, 2}
    assert all(800 < n < 1200 for n in counts.values())
    assert {rng.randrange(10, 20, 5) for _ in range(200)} == {10, 15}
    assert {rng.choice("abc") for _ in range(200)} == {"a", "b", "c"}
    floats = [rng.random() for _ in range(2000)]
    assert min(floats) >= 0.0 and max(floats) < 1.0
    assert 0.45 < sum(floats) / len(floats) < 0.55
    assert all(3.0 <= rng.uniform(3.0, 4.0) <= 4.0 for _ in range(100))
    assert len(rng.randbytes(5)) == 5


def test_empty_ranges_are_errors_as_in_random() -> None:
    rng = CompactRandom(1)
    with pytest.raises(ValueError):
        rng.randrange(3, 3)
    with pytest.raises(ValueError):
        rng.randrange(0, 10, 0)
    with pytest.raises(IndexError):
        rng.choice([])
    with pytest.raises(ValueError):
        rng.getrandbits(-1)


def test_random_random_is_an_rng_too() -> None:
    def draw(rng: Rng) -> int:
        return rng.randint(1, 6)

    assert 1 <= draw(random.Random(1)) <= 6
    assert 1 <= draw(CompactRandom(1)) <= 6
