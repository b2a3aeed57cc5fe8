"""``fleet run --workers N``: N shard processes, one merged view, one exact summary.

:class:`WorkerPool` cuts the run's index range (the whole fleet, or this
machine's slice, :func:`~fleet.runner.planning.machine_slice`) into N
contiguous ranges (:func:`~fleet.runner.planning.split_range`) and starts one
worker process per range (:func:`~fleet.runner.worker.worker_main`, ``spawn``
start method: a fresh interpreter, its own event loop and scheduler). Every
device's random choices derive from the run seed and its global index, so the
run is the same whatever N.

While the run goes on the workers send their numbers every ``report_every``
seconds; :meth:`WorkerPool.metrics` adds the latest ones up exactly
(:meth:`~fleet.metrics.RunMetrics.merged`) for the one Prometheus endpoint,
and :meth:`WorkerPool.snapshot` for the one progress line. At the end the
workers' summaries merge exactly (histograms, not averages) and the
thresholds are evaluated on the merged numbers. With ``interval`` every worker
samples a time series (:mod:`fleet.runner.sampling`); the pool merges the
records of each interval exactly (:class:`~fleet.metrics.series.SeriesMerger`)
and hands each merged record once to ``on_interval``, and keeps them in ``series``.

Stopping: setting ``stop`` sends every worker ``stop``; each de-registers its
devices and sends its summary (the merged summary is ``aborted``). A worker
that fails or dies (a crash, a kill) makes :meth:`WorkerPool.run` stop the
others the same way and then raise :class:`WorkerError` (``fleet run`` exits 1).
The workers stream their devices' registrations (:mod:`fleet.runner.handover`): for
a worker that died, the parent de-registers its NoSec registrations itself and the
error says how many it de-registered and how many are left to expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import signal
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Final

from fleet.errors import FleetError
from fleet.metrics import RunMetrics, Summary
from fleet.metrics.series import SeriesMerger
from fleet.metrics.timeseries import Interval
from fleet.runner.devices import DeviceFactory, fleet_device
from fleet.runner.fleet import evaluate_thresholds, scenario_name
from fleet.runner.handover import HeldRegistrations, Release, release
from fleet.runner.planning import split_range
from fleet.runner.progress import Snapshot, merge_snapshots
from fleet.runner.worker import ScenarioSource, WorkerJob, WorkerReport, worker_main
from fleet.scenario import Scenario

_log = logging.getLogger("fleet.runner")

JOIN_TIMEOUT: Final = 10.0
STOP_GRACE: Final = 93.0 + 30.0
"""Seconds (beyond ``drain``) stopping workers get to de-register and send their summaries:
CoAP's MAX_TRANSMIT_WAIT for a De-register nobody answers, plus a margin. A worker still
running then is terminated and reported by name, so the parent never waits forever."""
_HELD_SIGNALS: Final = {signal.SIGINT, signal.SIGTERM}
"""Seconds a worker that sent its summary gets to exit before it is terminated."""


class WorkerError(FleetError):
    """A worker process failed or died; the run could not be done."""


@dataclass(slots=True, eq=False)
class _Worker:
    job: WorkerJob
    process: BaseProcess
    conn: Connection
    ready: asyncio.Future[int]
    done: asyncio.Future[Summary]
    report: WorkerReport | None = None
    stopped: bool = False
    readers: list[int] = field(default_factory=list)
    held: HeldRegistrations = field(default_factory=HeldRegistrations)

    @property
    def name(self) -> str:
        indexes = self.job.indexes
        return f"worker {self.job.number} (devices {indexes.start}..{indexes.stop - 1})"


LEFT_REGISTERED: Final = ("registered", "updating", "deregistering")
"""Device states whose registration stays on the server when their worker dies."""


def registered_at(report: WorkerReport | None) -> int:
    """How many of a worker's devices were registered at its last report."""
    if report is None:
        return 0
    states = report.snapshot.states
    return sum(states.get(state, 0) for state in LEFT_REGISTERED)


def left_behind(report: WorkerReport | None, released: Release | None = None) -> str:
    """What a worker that died without its summary leaves on the server, as far as its last
    report tells, and what the parent de-registered for it (``released``)."""
    registered = registered_at(report)
    if released is None and not registered:
        return "; none of its devices had registered at its last report"
    if released is None:
        return (
            f"; {registered} of its devices were registered at its last report and could not"
            " de-register (they stay on the server until their lifetime ends)"
        )
    return (
        f"; {registered} of its devices were registered at its last report: {released.describe()}"
    )


class WorkerPool:
    """Runs ``indexes`` of a scenario in ``workers`` processes (see the module documentation)."""

    def __init__(
        self,
        scenario: Scenario,
        source: ScenarioSource,
        *,
        workers: int,
        indexes: range | None = None,
        addresses: Iterable[str] = (),
        factory: DeviceFactory = fleet_device,
        drain: float = 5.0,
        report_every: float = 0.5,
        log_level: int = logging.WARNING,
        interval: float | None = None,
        on_interval: Callable[[Interval], None] | None = None,
        loop: str = "auto",
    ) -> None:
        if workers < 1:
            raise WorkerError(f"at least one worker is needed, got {workers}")
        self.scenario = scenario
        self.indexes = indexes if indexes is not None else range(scenario.device_count)
        parts = [r for r in split_range(self.indexes, workers) if len(r)] or [self.indexes]
        chosen = tuple(addresses)
        self.jobs = [
            WorkerJob(n, source, r, chosen, factory, drain, report_every, log_level, interval, loop)
            for n, r in enumerate(parts)
        ]
        self._merger = SeriesMerger(job.number for job in self.jobs)
        self._on_interval = on_interval
        self.series: list[Interval] = []
        """The merged time series records so far (with ``interval``)."""
        self._workers: list[_Worker] = []
        self._waiters: list[asyncio.Future[None]] = []
        self._reaping: set[asyncio.Future[None]] = set()
        self.started: float | None = None
        """``time.monotonic()`` when the workers were told to start (all were ready)."""

    # -- the merged live view -----------------------------------------------------------

    def reports(self) -> list[WorkerReport]:
        return [w.report for w in list(self._workers) if w.report is not None]

    def metrics(self) -> RunMetrics:
        """The run's metrics so far: every worker's latest numbers added up."""
        return RunMetrics.merged(report.metrics for report in self.reports())

    def snapshot(self) -> Snapshot:
        """The run's progress numbers so far (every worker's latest added up)."""
        reports = {report.number: report.snapshot for report in self.reports()}
        waiting = [
            Snapshot(0.0, {"waiting": len(job.indexes)})
            for job in self.jobs
            if job.number not in reports
        ]
        return merge_snapshots([*reports.values(), *waiting])

    def pids(self) -> list[int]:
        """The process ids of the workers started so far (for RSS figures)."""
        return [w.process.pid for w in list(self._workers) if w.process.pid is not None]

    async def reported(self) -> None:
        """Wait until any worker sends its next progress report."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        await future

    # -- the run ------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> Summary:
        """Start the workers, run until the end (or ``stop``), return the merged summary."""
        loop = asyncio.get_running_loop()
        context = multiprocessing.get_context("spawn")
        stop = stop if stop is not None else asyncio.Event()
        try:
            for job in self.jobs:
                parent, child = context.Pipe()
                process = context.Process(
                    target=worker_main, args=(child, job), name=f"fleet-worker-{job.number}"
                )
                process.daemon = True
                worker = _Worker(job, process, parent, loop.create_future(), loop.create_future())
                # a Ctrl-C to the process group while a worker imports must not kill it:
                # it starts with SIGINT and SIGTERM blocked (the mask survives fork and
                # exec) until worker_main ignores SIGINT for good and handles SIGTERM (the
                # parent relays both as "stop"). The parent only blocks them meanwhile: one
                # that comes now stays pending and reaches the parent's handler right after
                # the start (ignoring them here, as before, discarded a Ctrl-C at this moment)
                held = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)
                try:
                    process.start()
                except BaseException:
                    parent.close()
                    raise
                finally:
                    child.close()
                    signal.pthread_sigmask(signal.SIG_SETMASK, held)
                self._workers.append(worker)
                self._watch(loop, worker)
            aborted = not await self._until_all(stop, [w.ready for w in self._workers])
            if not aborted:
                self.started = time.monotonic()
                for worker in self._workers:
                    self._send(worker, "start")
            else:
                self._stop_all()
            aborted = not await self._until_all(stop, [w.done for w in self._workers]) or aborted
            summaries = [w.done.result() for w in self._workers]
        finally:
            await self._cleanup(loop)
            self._emit(self._merger.flush())
        summary = Summary.merge_all(summaries)
        summary.scenario = scenario_name(self.scenario)
        summary.seed = self.scenario.seed
        summary.aborted = summary.aborted or aborted
        summary.thresholds = evaluate_thresholds(summary, self.scenario.thresholds)
        return summary

    async def _until_all(self, stop: asyncio.Event, futures: list[asyncio.Future[Any]]) -> bool:
        """Wait for every future; ``False`` when ``stop`` came first (then wait for summaries).

        A failed future stops every worker, waits for their summaries and raises
        the first failure.
        """
        stopping = asyncio.ensure_future(stop.wait())
        try:
            pending: set[asyncio.Future[Any]] = set(futures)
            while pending:
                done, _ = await asyncio.wait(
                    [*pending, stopping], return_when=asyncio.FIRST_COMPLETED
                )
                pending -= done
                failed = [f for f in done if f is not stopping and f.exception() is not None]
                if failed:
                    await self._abandon()
                    raise failed[0].exception()  # type: ignore[misc]
                if stopping in done:
                    self._stop_all()
                    await self._finish_all()
                    return False
            return True
        finally:
            stopping.cancel()
            await asyncio.gather(stopping, return_exceptions=True)

    async def _finish_all(self) -> None:
        """After ``stop``: every summary, or the first failure."""
        dones = [w.done for w in self._workers]
        await self._bounded(dones)
        for future in dones:
            error = future.exception()
            if error is not None:
                raise error

    async def _abandon(self) -> None:
        """One worker failed: stop the others and let them de-register before raising."""
        self._stop_all()
        await self._bounded([w.done for w in self._workers])
        for worker in self._workers:
            if worker.done.exception() is None:
                _log.warning("%s stopped after another worker failed", worker.name)

    async def _bounded(self, dones: list[asyncio.Future[Summary]]) -> None:
        """Wait for ``dones`` at most ``drain`` + :data:`STOP_GRACE`; fail the stragglers."""
        grace = self.jobs[0].drain + STOP_GRACE if self.jobs else STOP_GRACE
        _, late = await asyncio.wait(dones, timeout=grace)
        for worker in self._workers:
            if worker.done in late:
                _log.error("%s did not stop within %.0f s: terminating it", worker.name, grace)
                worker.process.terminate()
                self._fail(worker, f"did not stop within {grace:.0f} s and was terminated")

    def cut_short(self) -> None:
        """A second stop (a second Ctrl-C): every worker gives its De-registers up now."""
        self._stop_all()  # the first "stop" to any worker that has not had it yet
        for worker in self._workers:
            self._send(worker, "stop")  # the second: the worker cuts its De-registers short

    def _stop_all(self) -> None:
        for worker in self._workers:
            if not worker.stopped:
                worker.stopped = True
                self._send(worker, "stop")

    def _send(self, worker: _Worker, message: str) -> None:
        if worker.done.done():
            return
        with contextlib.suppress(OSError, ValueError):  # it died: its sentinel reports it
            worker.conn.send(message)

    # -- messages and process ends ------------------------------------------------------

    def _watch(self, loop: asyncio.AbstractEventLoop, worker: _Worker) -> None:
        loop.add_reader(worker.conn.fileno(), self._readable, worker)
        loop.add_reader(worker.process.sentinel, self._exited, loop, worker)
        worker.readers += [worker.conn.fileno(), worker.process.sentinel]

    def _readable(self, worker: _Worker) -> None:
        try:
            message = worker.conn.recv()
        except (EOFError, OSError):
            asyncio.get_running_loop().remove_reader(worker.conn.fileno())
            return
        self._handle(worker, message)

    def _handle(self, worker: _Worker, message: object) -> None:
        if not isinstance(message, tuple) or len(message) != 2:
            self._fail(worker, f"sent an unexpected message {message!r}")
            return
        kind, value = message
        if kind == "ready" and not worker.ready.done():
            worker.ready.set_result(int(value))
        elif kind == "progress" and isinstance(value, WorkerReport):
            worker.report = value
            waiters, self._waiters = self._waiters, []
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_result(None)
        elif kind == "registrations" and isinstance(value, tuple):
            worker.held.apply(value)
        elif kind == "series" and isinstance(value, Interval):
            self._emit(self._merger.add(worker.job.number, value))
        elif kind == "summary" and isinstance(value, Summary):
            if not worker.done.done():
                worker.done.set_result(value)
            worker.held.held.clear()  # it de-registered its devices itself
            self._emit(self._merger.finish(worker.job.number))
        elif kind == "error":
            self._fail(worker, str(value))
        else:
            self._fail(worker, f"sent an unexpected message {kind!r}")

    def _emit(self, records: list[Interval]) -> None:
        for record in records:
            self.series.append(record)
            if self._on_interval is not None:
                self._on_interval(record)

    def _fail(self, worker: _Worker, reason: str) -> None:
        error = WorkerError(f"{worker.name} failed: {reason}")
        for future in (worker.ready, worker.done):
            if not future.done():
                future.set_exception(error)
                future.exception()  # retrieved: reported by run(), not by asyncio

    def _exited(self, loop: asyncio.AbstractEventLoop, worker: _Worker) -> None:
        loop.remove_reader(worker.process.sentinel)
        try:
            while worker.conn.poll():
                self._handle(worker, worker.conn.recv())
        except (EOFError, OSError):
            pass
        if not worker.done.done():
            # the sentinel can be readable a moment before the child can be reaped:
            # wait for its exit status off the loop rather than reading None
            task = asyncio.ensure_future(self._reap(loop, worker))
            self._reaping.add(task)
            task.add_done_callback(self._reaping.discard)

    async def _reap(self, loop: asyncio.AbstractEventLoop, worker: _Worker) -> None:
        await loop.run_in_executor(None, worker.process.join, JOIN_TIMEOUT)
        code = worker.process.exitcode
        if worker.done.done():
            return
        if code is None:
            how = "closed its pipe but did not exit"
        elif code < 0:
            how = f"was killed by signal {-code}"
        else:
            how = f"exited with status {code}"
        released = None
        if len(worker.held) or registered_at(worker.report):
            self._stop_all()  # the run fails: the others de-register meanwhile
            released = await release(worker.held, registered_at(worker.report))
        if worker.done.done():
            return
        self._fail(
            worker, f"the process {how} before its summary{left_behind(worker.report, released)}"
        )

    async def _cleanup(self, loop: asyncio.AbstractEventLoop) -> None:
        for worker in self._workers:
            for fd in worker.readers:
                loop.remove_reader(fd)
            if worker.process.is_alive() and not worker.done.done():
                self._send(worker, "stop")
        for worker in self._workers:
            await loop.run_in_executor(None, worker.process.join, JOIN_TIMEOUT)
            if worker.process.is_alive():
                _log.error("%s did not exit: terminating it", worker.name)
                worker.process.terminate()
                await loop.run_in_executor(None, worker.process.join, JOIN_TIMEOUT)
            if worker.process.is_alive():
                worker.process.kill()
                await loop.run_in_executor(None, worker.process.join, JOIN_TIMEOUT)
            worker.conn.close()
        if self._reaping:
            await asyncio.gather(*self._reaping, return_exceptions=True)
