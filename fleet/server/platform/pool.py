"""A bounded pool for commands that go to many devices at once (rules, ``*`` commands).

A fleet registers by the thousand; a rule run "on every Register", or a command for ``*``,
must not become thousands of requests in flight. :class:`Pool` keeps a queue of jobs and at
most ``limit`` worker tasks that take them one after the other, so requests in flight never
exceed ``limit`` and no task exists per waiting device. Everything is counted
(:class:`PoolStats`: queued, running, the peak of running, done, failed, refused when the
backlog is full) so a test or the ``RULES`` console command can show the bound held.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

Job = Callable[[], Awaitable[None]]

DEFAULT_CONCURRENCY = 32
"""Devices a rule or a ``*`` command talks to at once (``--concurrency``)."""
DEFAULT_BACKLOG = 1_000_000
"""Jobs that may wait; past it a job is refused (and counted)."""

_log = logging.getLogger("fleet.server.platform")


@dataclass(slots=True)
class PoolStats:
    """What the pool did so far."""

    limit: int
    queued: int = 0
    """Jobs accepted."""
    waiting: int = 0
    running: int = 0
    peak: int = 0
    """Most jobs running at once (never above ``limit``)."""
    done: int = 0
    failed: int = 0
    """Jobs that raised (logged; the others go on)."""
    refused: int = 0
    """Jobs refused because the backlog was full."""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class Pool:
    """Runs jobs with at most ``limit`` at a time (see the module docstring)."""

    def __init__(self, limit: int = DEFAULT_CONCURRENCY, backlog: int = DEFAULT_BACKLOG) -> None:
        if limit < 1:
            raise ValueError(f"a pool runs at least one job at a time, not {limit}")
        self.limit = limit
        self.backlog = backlog
        self.stats = PoolStats(limit)
        self._queue: deque[Job] = deque()
        self._workers: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False

    def submit(self, job: Job) -> bool:
        """Queue ``job``; ``False`` (counted as refused) when the backlog is full or the pool
        is closed."""
        if self._closed or len(self._queue) >= self.backlog:
            self.stats.refused += 1
            return False
        self._queue.append(job)
        self.stats.queued += 1
        self.stats.waiting = len(self._queue)
        self._idle.clear()
        if len(self._workers) < self.limit:
            self._workers.add(asyncio.ensure_future(self._work()))
        return True

    async def run_all(self, jobs: Sequence[Job]) -> None:
        """Run ``jobs`` through the pool and wait for all of them."""
        left = len(jobs)
        if not left:
            return
        done = asyncio.get_running_loop().create_future()

        def counted(job: Job) -> Job:
            async def run() -> None:
                nonlocal left
                try:
                    await job()
                finally:
                    left -= 1
                    if left == 0 and not done.done():
                        done.set_result(None)

            return run

        for job in jobs:
            if not self.submit(counted(job)):
                left -= 1
        if left == 0:
            return
        await done

    async def _work(self) -> None:
        try:
            await self._jobs()
        finally:
            # leave the set at once (not in a done callback): a job submitted meanwhile
            # must find room for a new worker
            self._workers.discard(asyncio.current_task())
            if not self._workers:
                self._idle.set()

    async def _jobs(self) -> None:
        stats = self.stats
        while self._queue:
            job = self._queue.popleft()
            stats.waiting = len(self._queue)
            stats.running += 1
            stats.peak = max(stats.peak, stats.running)
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:
                stats.failed += 1
                _log.exception("a job of the command pool failed")
            finally:
                stats.running -= 1
                stats.done += 1

    async def drain(self) -> None:
        """Wait until every job queued so far has run."""
        await self._idle.wait()

    def close(self) -> None:
        """Refuse new jobs, drop the waiting ones, cancel the running ones."""
        self._closed = True
        self._queue.clear()
        self.stats.waiting = 0
        for task in list(self._workers):
            task.cancel()
