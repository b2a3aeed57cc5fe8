"""The end of a run against a server that may be gone: de-registers bounded by a grace.

Every device of a shard de-registers when the run ends. A De-register nobody answers
takes CoAP's MAX_TRANSMIT_WAIT (93 s) to give up; against a dead server the whole end
would take that long, batch after batch. :func:`until_quiet` waits for the de-registers
as long as they keep finishing: when none has finished for ``grace`` seconds of the
shard's clock (the server does not answer), or when ``cut`` is set (a second Ctrl-C), it
returns the ones still waiting, for the shard to drop without an answer and count.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from typing import Any, Final

from fleet.clock import Clock

DEREGISTER_GRACE: Final = 10.0
"""Seconds without one De-register finishing after which the rest are given up."""


async def until_quiet(
    tasks: Collection[asyncio.Future[Any]],
    clock: Clock,
    grace: float,
    cut: asyncio.Event | None = None,
) -> set[asyncio.Future[Any]]:
    """Wait for ``tasks`` while they make progress; the ones left when it stopped."""
    pending = set(tasks)
    cutting = asyncio.ensure_future(cut.wait()) if cut is not None else None
    try:
        while pending and not (cut is not None and cut.is_set()):
            quiet = asyncio.ensure_future(clock.sleep_until(clock.now() + grace))
            waiters: set[asyncio.Future[Any]] = {*pending, quiet}
            if cutting is not None:
                waiters.add(cutting)
            try:
                done, _ = await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            finally:
                quiet.cancel()
            finished = done & pending
            pending -= finished
            if not finished:  # the grace ran out (or the cut came) with nothing finished
                break
    finally:
        if cutting is not None:
            cutting.cancel()
    return pending
