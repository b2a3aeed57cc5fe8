"""One shard process of ``fleet run --workers N``: the child side of :mod:`fleet.runner.workers`.

The parent starts :func:`worker_main` in a fresh interpreter (``spawn``) with a
:class:`WorkerJob` and one end of a pipe. The worker loads the scenario again
from its :class:`ScenarioSource` (scenarios are not picklable; the text and
overrides are), builds a :class:`~fleet.runner.fleet.Fleet` over its contiguous
index range on its own event loop, and talks to the parent in pickled tuples:

========================  =====================================================
worker -> parent          meaning
========================  =====================================================
``("ready", devices)``    loaded; waits for ``start``
``("progress", report)``  a :class:`WorkerReport` every ``report_every`` seconds
``("registrations", b)``  just before a report (or when many wait): the devices'
                          registrations and de-registrations since the last
                          one (:mod:`fleet.runner.handover`), for the parent to
                          de-register them should this worker die
``("series", interval)``  with ``WorkerJob.interval``: a time series record
                          (:mod:`fleet.runner.sampling`) every interval, the last
                          one just before the summary
``("summary", summary)``  its :class:`~fleet.metrics.Summary`; then it exits 0
``("error", text)``       it could not run; then it exits 1
========================  =====================================================

The parent sends ``"start"`` (all workers start their run clocks together) and
``"stop"`` (Ctrl-C / SIGTERM of the run, or another worker failed): the worker
stops its shard — every device de-registers — and sends its summary. A worker
ignores SIGINT (a terminal's Ctrl-C reaches the whole process group; the parent
relays it once), stops on SIGTERM, and stops too when the parent goes away
(end of file on the pipe).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pathlib
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from fleet.clock import LoopClock
from fleet.metrics import RunMetrics, Summary
from fleet.runner import loops
from fleet.runner.devices import DeviceFactory, fleet_device
from fleet.runner.fleet import Fleet
from fleet.runner.handover import RegistrationStream
from fleet.runner.limits import SourceAddresses
from fleet.runner.progress import Snapshot, snapshot
from fleet.runner.sampling import Sampler
from fleet.runner.shard import Shard
from fleet.scenario import Scenario, load_scenario_text
from fleet.scenario.overrides import Setting


@dataclass(frozen=True, slots=True)
class ScenarioSource:
    """How to load the same scenario again in another process (text, overrides, objects)."""

    text: str
    file: str = "<scenario>"
    base_dir: pathlib.Path | None = None
    settings: tuple[Setting, ...] = ()
    objects_dirs: tuple[pathlib.Path, ...] = ()

    @classmethod
    def from_file(
        cls,
        path: pathlib.Path,
        *,
        settings: Sequence[Setting] = (),
        objects_dirs: Sequence[pathlib.Path] = (),
    ) -> ScenarioSource:
        """The file as it is now (later edits do not reach the workers)."""
        return cls(
            path.read_text(encoding="utf-8"),
            str(path),
            path.parent.absolute(),
            tuple(settings),
            tuple(objects_dirs),
        )

    def load(self) -> Scenario:
        return load_scenario_text(
            self.text,
            file=self.file,
            base_dir=self.base_dir,
            settings=self.settings,
            objects_dirs=self.objects_dirs,
        )


@dataclass(frozen=True, slots=True)
class WorkerJob:
    """What one worker runs: the devices of ``indexes``, bound round-robin to ``addresses``."""

    number: int
    source: ScenarioSource
    indexes: range
    addresses: tuple[str, ...] = ()
    factory: DeviceFactory = fleet_device
    drain: float = 5.0
    report_every: float = 0.5
    log_level: int = logging.WARNING
    interval: float | None = None
    """Seconds between time series records (``None``: no time series)."""
    loop: str = "auto"
    """The event loop (:mod:`fleet.runner.loops`): ``auto``, ``asyncio`` or ``uvloop``."""


@dataclass(frozen=True, slots=True)
class WorkerReport:
    """A worker's live numbers: its progress snapshot and a copy of its metrics."""

    number: int
    snapshot: Snapshot
    metrics: RunMetrics


def worker_main(conn: Connection, job: WorkerJob) -> None:
    """The entry point of a worker process (see the module documentation)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent relays Ctrl-C as "stop"
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # held by the parent at start
    logging.basicConfig(
        level=job.log_level,
        format=f"%(levelname)s worker {job.number} %(name)s: %(message)s",
    )
    try:
        loops.run(_work(conn, job), job.loop)
    except BaseException as exc:  # every failure goes to the parent, then exit 1
        _send(conn, ("error", f"{type(exc).__name__}: {exc}"))
        raise SystemExit(1) from None
    finally:
        conn.close()


def _send(conn: Connection, message: tuple[str, Any]) -> None:
    with contextlib.suppress(OSError, ValueError):  # the parent is gone: nothing to tell
        conn.send(message)


async def _work(conn: Connection, job: WorkerJob) -> None:
    loop = asyncio.get_running_loop()
    scenario = job.source.load()
    factory: DeviceFactory = job.factory
    if job.addresses:
        factory = SourceAddresses(job.addresses, job.factory, offset=job.number)
    stream = RegistrationStream(lambda batch: _send(conn, ("registrations", batch)))
    factory = stream.factory(factory)
    clock = LoopClock(loop)
    fleet = Fleet(scenario, clock=clock, factory=factory, drain=job.drain, indexes=job.indexes)
    stop = asyncio.Event()
    cut = asyncio.Event()
    begin = asyncio.Event()

    def readable() -> None:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the parent went away: stop cleanly
            loop.remove_reader(conn.fileno())
            message = "stop"
        if message == "stop":
            if stop.is_set():  # a second stop (a second Ctrl-C): give the De-registers up
                cut.set()
            stop.set()
        begin.set()

    loop.add_reader(conn.fileno(), readable)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})  # one pending now arrives here
    conn.send(("ready", len(job.indexes)))
    await begin.wait()
    shards: list[Shard] = []
    reporter: asyncio.Task[None] | None = None
    samplers: list[Sampler] = []

    def report() -> None:
        stream.flush()  # first: the registrations the progress counts are known
        if shards:
            shard = shards[0]
            shard.update_device_metrics()
            now = snapshot(shard, fleet.metrics)
        else:
            now = Snapshot(0.0, {"waiting": len(job.indexes)})
        _send(conn, ("progress", WorkerReport(job.number, now, fleet.metrics)))

    async def reports() -> None:
        next_at = clock.now()
        while True:
            report()
            next_at += job.report_every
            await clock.sleep_until(next_at)

    def started(shard: Shard) -> None:
        nonlocal reporter
        shards.append(shard)
        reporter = asyncio.ensure_future(reports())
        if job.interval is not None:
            sampler = Sampler(
                shard,
                fleet.metrics,
                lambda record: _send(conn, ("series", record)),
                clock=clock,
                interval=job.interval,
            )
            sampler.start()
            samplers.append(sampler)

    try:
        summary: Summary = await fleet.run(stop, on_started=started, cut=cut)
    finally:
        if reporter is not None:
            reporter.cancel()
            await asyncio.gather(reporter, return_exceptions=True)
        for sampler in samplers:
            await sampler.finish()
    report()
    conn.send(("summary", summary))
