"""The command pool never runs more than its limit at once, and counts what it did."""

from __future__ import annotations

import asyncio

import pytest

from fleet.server.platform.pool import Job, Pool

pytestmark = pytest.mark.asyncio


async def test_at_most_limit_jobs_run_at_once_and_all_run() -> None:
    pool = Pool(limit=4)
    release = asyncio.Event()
    running = 0
    seen: list[int] = []
    four_in = asyncio.Event()

    async def job() -> None:
        nonlocal running
        running += 1
        seen.append(running)
        if running == 4:
            four_in.set()
        await release.wait()
        running -= 1

    for _ in range(50):
        assert pool.submit(job)
    await asyncio.wait_for(four_in.wait(), 5)
    assert pool.stats.running == 4 and pool.stats.waiting == 46
    release.set()
    await asyncio.wait_for(pool.drain(), 5)
    assert max(seen) == 4 and len(seen) == 50
    assert (pool.stats.queued, pool.stats.done, pool.stats.peak) == (50, 50, 4)
    assert pool.stats.running == 0 and pool.stats.failed == 0


async def test_run_all_waits_for_its_jobs_and_a_failure_is_counted() -> None:
    pool = Pool(limit=2)
    done: list[int] = []

    def job(n: int) -> Job:
        async def run() -> None:
            await asyncio.sleep(0)
            if n == 3:
                raise RuntimeError("boom")
            done.append(n)

        return run

    await asyncio.wait_for(pool.run_all([job(n) for n in range(6)]), 5)
    assert sorted(done) == [0, 1, 2, 4, 5]
    assert pool.stats.failed == 1 and pool.stats.peak == 2


async def test_a_full_backlog_refuses_and_counts() -> None:
    pool = Pool(limit=1, backlog=2)
    gate = asyncio.Event()

    async def job() -> None:
        await gate.wait()

    assert [pool.submit(job) for _ in range(3)] == [True, True, False]
    assert pool.stats.refused == 1
    gate.set()
    await asyncio.wait_for(pool.drain(), 5)
    pool.close()
    assert not pool.submit(job) and pool.stats.refused == 2


async def test_a_pool_needs_room_for_one_job() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Pool(limit=0)
