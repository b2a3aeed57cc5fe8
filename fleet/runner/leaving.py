"""The end of a run against a server that may be gone: de-registers bounded by a grace.

:func:`settle` first gives the devices still in a Register or Update exchange ``drain``
seconds to finish it; then every device still present de-registers
(:func:`deregister_all`) and closes its socket.

Every device of a shard de-registers when the run ends. A De-register nobody answers
takes CoAP's MAX_TRANSMIT_WAIT (93 s) to give up; against a dead server the whole end
would take that long, batch after batch. :func:`until_quiet` waits for the de-registers
as long as they keep finishing: when none has finished for ``grace`` seconds of the
shard's clock (the server does not answer), or when ``cut`` is set (a second Ctrl-C), it
returns the ones still waiting, for the shard to drop without an answer and count:
:func:`deregister_all` does all of that for the devices still present, at most
``concurrency`` De-registers in flight at once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence
from typing import Any, Final

from fleet.client.registration import RegistrationState
from fleet.clock import Clock
from fleet.metrics import Operation
from fleet.runner.devices import DeviceLike
from fleet.runner.events import MetricsBridge

_log = logging.getLogger("fleet.runner")

DEREGISTER_GRACE: Final = 10.0
"""Seconds without one De-register finishing after which the rest are given up."""

STOP_CONCURRENCY: Final = 500
"""De-registers in flight at once at the end of a run: a server's UDP receive buffer
(Linux's default holds ~160 small datagrams) drops a larger burst, and the dropped
De-registers come back only after CoAP's 2-3 s ACK timeout."""


async def settle(devices: Sequence[DeviceLike], clock: Clock, drain: float) -> None:
    """Let the devices mid-Register or mid-Update finish: wait until none is, at most
    ``drain`` seconds of ``clock``."""
    busy = (RegistrationState.REGISTERING, RegistrationState.UPDATING)
    waiting = [device for device in devices if device.state in busy]
    deadline = clock.now() + drain
    while waiting and clock.now() < deadline and any(d.state in busy for d in waiting):
        await clock.sleep_until(min(deadline, clock.now() + 0.05))


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


async def deregister_all(
    devices: Sequence[DeviceLike],
    bridge: MetricsBridge,
    clock: Clock,
    *,
    concurrency: int,
    grace: float,
    cut: asyncio.Event | None = None,
) -> int:
    """De-register ``devices``, at most ``concurrency`` at a time, each counted by
    ``bridge``; the ones still waiting when :func:`until_quiet` stops are dropped without
    an answer (counted unfinished, logged once). Returns how many were given up."""
    limit = asyncio.Semaphore(concurrency)

    async def leave(device: DeviceLike) -> None:
        async with limit:
            bridge.began(device.name, Operation.DEREGISTER, clock.now())
            await device.stop(deregister=True)

    tasks = [asyncio.ensure_future(leave(device)) for device in devices]
    late = await until_quiet(tasks, clock, grace, cut)
    for task in late:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    given_up = 0
    for device, task, result in zip(devices, tasks, results, strict=True):
        if task in late:
            given_up += 1
            bridge.unfinished(device.name, Operation.DEREGISTER, clock.now())
            await device.stop(deregister=False)
        elif isinstance(result, BaseException):
            _log.error("%s: stop failed: %s", device.name, result)
    if given_up:
        why = (
            "cut short"
            if cut is not None and cut.is_set()
            else (f"no De-register was answered for {grace:g} s")
        )
        _log.warning(
            "%d devices gave up de-registering (%s): they stay registered on the server"
            " until their lifetime ends",
            given_up,
            why,
        )
    return given_up
