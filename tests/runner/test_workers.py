"""Worker processes: the run stops on request (aborted), a dying worker is a clear error.

The devices here are stand-ins (no sockets) so the tests check the process
machinery only; tests/acceptance/test_sharded.py runs real devices.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.process
import os
import random
import signal
import threading

import pytest

from fleet.client.config import DeviceConfig
from fleet.client.events import ClientListener
from fleet.client.registration import RegistrationState
from fleet.clock import Clock
from fleet.metrics import Operation
from fleet.model.path import Path
from fleet.runner.fleet import EXIT_ABORTED, exit_status
from fleet.runner.worker import ScenarioSource
from fleet.runner.workers import WorkerError, WorkerPool
from fleet.scenario import load_scenario_text

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]

TEXT = """
version: 1
server: coap://127.0.0.1:9
seed: 5
duration: 1h
groups:
  - count: 30
    endpoint: "w-{index:03d}"
    objects:
      3303: [0]
"""
WAIT = 60.0


class StandIn:
    """A device that is registered as soon as it starts (no network)."""

    def __init__(self, config: DeviceConfig) -> None:
        self.name = config.endpoint
        self.state = RegistrationState.STOPPED

    def set_value(self, path: Path, value: object) -> None:
        pass

    async def start(self) -> None:
        self.state = RegistrationState.REGISTERED

    async def stop(self, *, deregister: bool = True) -> None:
        self.state = RegistrationState.STOPPED

    def add_listener(self, listener: ClientListener) -> None:
        pass


def stand_in(config: DeviceConfig, clock: Clock, rng: random.Random) -> StandIn:
    return StandIn(config)


def crashing(config: DeviceConfig, clock: Clock, rng: random.Random) -> StandIn:
    if config.endpoint == "w-020":
        os._exit(3)  # the worker process dies without a word
    return StandIn(config)


def stand_in_pool() -> WorkerPool:
    """Two workers of stand-ins, reporting often."""
    return WorkerPool(
        load_scenario_text(TEXT),
        ScenarioSource(TEXT),
        workers=2,
        factory=stand_in,
        report_every=0.05,
    )


async def until_registered(pool: WorkerPool, count: int) -> None:
    while pool.snapshot().states.get("registered", 0) < count:
        await pool.reported()


async def test_stop_ends_every_worker_and_the_merged_summary_is_aborted() -> None:
    pool = stand_in_pool()
    stop = asyncio.Event()
    running = asyncio.ensure_future(pool.run(stop))
    await asyncio.wait_for(until_registered(pool, 30), WAIT)
    live = pool.metrics()
    assert live.devices == {"registered": 30}
    assert live.operations[Operation.REGISTER].count == 0  # stand-ins report no exchanges
    stop.set()
    summary = await asyncio.wait_for(running, WAIT)
    assert summary.aborted and exit_status(summary) == EXIT_ABORTED
    assert summary.shards == 2 and summary.devices == 30
    assert summary.device_states == {"stopped": 30}
    assert [job.indexes for job in pool.jobs] == [range(0, 15), range(15, 30)]


async def test_a_worker_that_dies_is_a_clear_error_and_the_others_stop() -> None:
    pool = WorkerPool(
        load_scenario_text(TEXT),
        ScenarioSource(TEXT),
        workers=2,
        indexes=range(10, 30),
        factory=crashing,
    )
    with pytest.raises(WorkerError, match=r"worker 1 \(devices 20\.\.29\).*exited with status 3"):
        await asyncio.wait_for(pool.run(), WAIT)
    assert all(not job.indexes or job.indexes.start >= 10 for job in pool.jobs)


async def test_a_scenario_the_worker_cannot_load_is_reported() -> None:
    broken = TEXT.replace("count: 30", "count: lots")
    pool = WorkerPool(load_scenario_text(TEXT), ScenarioSource(broken), workers=1)
    with pytest.raises(WorkerError, match=r"worker 0 .* failed: ScenarioErrors"):
        await asyncio.wait_for(pool.run(), WAIT)


async def test_a_ctrl_c_reaching_a_worker_while_it_starts_does_not_kill_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A terminal's Ctrl-C goes to the whole process group, workers included, possibly
    # while they are still importing: they must leave it to the parent (which stops them).
    pool = stand_in_pool()
    watch = pool._watch

    def interrupt_then_watch(loop: asyncio.AbstractEventLoop, worker: object) -> None:
        os.kill(worker.process.pid, signal.SIGINT)  # type: ignore[attr-defined]
        watch(loop, worker)  # type: ignore[arg-type]

    monkeypatch.setattr(pool, "_watch", interrupt_then_watch)
    stop = asyncio.Event()
    running = asyncio.ensure_future(pool.run(stop))
    await asyncio.wait_for(until_registered(pool, 30), WAIT)
    stop.set()
    summary = await asyncio.wait_for(running, WAIT)
    assert summary.aborted and summary.device_states == {"stopped": 30}


async def test_a_worker_killed_with_sigkill_says_how_many_registrations_it_left() -> None:
    pool = stand_in_pool()
    running = asyncio.ensure_future(pool.run())
    await asyncio.wait_for(until_registered(pool, 30), WAIT)
    os.kill(pool.pids()[1], signal.SIGKILL)
    with pytest.raises(WorkerError) as caught:
        await asyncio.wait_for(running, WAIT)
    message = str(caught.value)
    assert "worker 1 (devices 15..29) failed: the process was killed by signal 9" in message
    # stand-ins tell no locations: none can be de-registered by the parent
    assert (
        "15 of its devices were registered at its last report: de-registered by the parent 0,"
        " left to expire 15 (15 whose locations never reached the parent)"
    ) in message


async def test_a_ctrl_c_to_the_parent_while_a_worker_starts_stops_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The parent holds SIGINT while it starts a worker, in its main thread only: a Ctrl-C
    # then goes to another thread of the process (here one waiting in the default
    # executor, as a name lookup leaves it). Once the parent also ignored SIGINT during the
    # start, that thread dropped it and the run went on to its end.
    pool = stand_in_pool()
    loop = asyncio.get_running_loop()
    release = threading.Event()
    other = loop.run_in_executor(None, release.wait)
    spawn = multiprocessing.get_context("spawn").Process
    start = spawn.start

    def interrupted_start(process: multiprocessing.process.BaseProcess) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # arrives while the parent holds it
        start(process)

    monkeypatch.setattr(spawn, "start", interrupted_start)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGINT, stop.set)
    try:
        summary = await asyncio.wait_for(pool.run(stop), WAIT)
    finally:
        loop.remove_signal_handler(signal.SIGINT)
        release.set()
        await other
    assert stop.is_set()
    assert summary.aborted and exit_status(summary) == EXIT_ABORTED
