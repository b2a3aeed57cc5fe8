"""Slices of a fleet: one machine's range (--shard-index/--shard-count), its workers' ranges."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleet.runner.planning import PlanningError, machine_slice, shard_of, split_range


@given(st.integers(0, 5_000), st.integers(1, 16), st.integers(1, 8))
def test_machines_and_workers_cover_every_index_once(
    count: int, machines: int, workers: int
) -> None:
    seen: list[int] = []
    for machine in range(machines):
        part = machine_slice(count, machine, machines)
        pieces = split_range(part, workers)
        assert len(pieces) == workers
        for piece in pieces:
            assert piece.step == 1 and part.start <= piece.start <= piece.stop <= part.stop
            seen.extend(piece)
        sizes = [len(p) for p in pieces]
        assert max(sizes) - min(sizes) <= 1
        assert all(shard_of(i, count, machines) == machine for i in part)
    assert seen == list(range(count))


def test_a_machine_slice_is_contiguous_and_balanced() -> None:
    assert [machine_slice(10, i, 3) for i in range(3)] == [range(0, 4), range(4, 7), range(7, 10)]
    assert split_range(range(4, 7), 2) == [range(4, 6), range(6, 7)]


def test_bad_shard_numbers_are_refused() -> None:
    with pytest.raises(PlanningError, match=r"0\.\.2"):
        machine_slice(10, 3, 3)
    with pytest.raises(PlanningError, match="at least 1"):
        machine_slice(10, 0, 0)
    with pytest.raises(PlanningError, match="contiguous"):
        split_range(range(0, 10, 2), 2)
