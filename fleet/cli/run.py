"""``fleet run SCENARIO``: run a fleet from a scenario file, print its summary.

Results (the summary table with the thresholds) go to stdout; progress and
logs to stderr. ``--summary-json PATH`` writes the summary as JSON (schema in
:mod:`fleet.metrics.summary`, ``schema_version`` 1). Exit status: 0 ok, 1 the
run could not be done (also: the fleet does not fit the open-file or port
limits, a worker process failed), 2 invalid scenario or command line, 99 a
threshold failed, 130 aborted by Ctrl-C or SIGTERM (every device
de-registered first) — see :mod:`fleet.runner.fleet`.
``--timeseries``, ``--csv``, ``--report``, ``--junit`` and ``--interval``: the
time series and the files made from it (:mod:`fleet.cli.outputs`).

Scale (see ``docs/scale.md``):

- ``--workers N`` [FLEET_WORKERS]: N shard processes (default: one per core,
  more if the open-file limit needs it; 1 runs in this process);
  :mod:`fleet.runner.workers`.
- ``--shard-index I --shard-count N`` [FLEET_SHARD_INDEX (else Kubernetes'
  JOB_COMPLETION_INDEX), FLEET_SHARD_COUNT]: this machine runs only slice I of
  N of the device indexes (:func:`~fleet.runner.planning.machine_slice`);
  ``fleet merge`` combines the machines' summaries.
- ``--source-address ADDR`` (repeatable) [FLEET_SOURCE_ADDRESSES, space
  separated]: bind devices round-robin to these addresses; by default extra
  loopback addresses are used when one address's ports do not suffice
  (:mod:`fleet.runner.limits`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import pathlib
import signal
import sys
from collections.abc import Awaitable, Callable

import click

from fleet.cli.durations import Duration
from fleet.cli.options import loop_option, objects_option
from fleet.cli.outputs import RunOutputs, output_options
from fleet.cli.scenario import EXIT_INVALID_SCENARIO, override_options
from fleet.cli.scenario_input import load_run_scenario
from fleet.client.config import ConfigError
from fleet.client.uri import UnresolvedName, parse_uri, resolve_blocking
from fleet.clock import LoopClock
from fleet.metrics import RunMetrics, Summary
from fleet.metrics.prometheus import metrics_registry, serve
from fleet.runner import loops
from fleet.runner.any_source import AnySource
from fleet.runner.devices import DeviceFactory, fleet_device
from fleet.runner.fleet import EXIT_ERROR, Fleet, exit_status, nothing_started
from fleet.runner.limits import Capacity, CapacityError, SourceAddresses, plan_capacity
from fleet.runner.planning import PlanningError, machine_slice
from fleet.runner.progress import Progress, Snapshot
from fleet.runner.reachable import cannot_run
from fleet.runner.sampling import Sampler
from fleet.runner.shard import Shard
from fleet.runner.worker import ScenarioSource
from fleet.runner.workers import WorkerError, WorkerPool
from fleet.scenario import Scenario, ScenarioErrors, run_settings

QUIET_LOG_LEVEL = logging.CRITICAL + 1
"""The log level of ``fleet run -q``'s worker processes: not a line of their own."""
SHARD_INDEX_VARS = ("FLEET_SHARD_INDEX", "JOB_COMPLETION_INDEX")


async def _with_signals(
    work: Callable[[asyncio.Event], Awaitable[Summary]],
    progress: Callable[[], Progress | None],
    cut_short: Callable[[], None] | None = None,
) -> Summary:
    """Run ``work(stop)``; SIGINT/SIGTERM set ``stop``, a second one calls ``cut_short``
    (the De-registers at the end are given up); the progress view runs meanwhile."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    handled: list[signal.Signals] = []

    def on_signal() -> None:
        if stop.is_set() and cut_short is not None:
            click.echo("fleet run: stopping now, without waiting for De-registers", err=True)
            cut_short()
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, on_signal)
            handled.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover
            pass
    try:
        return await work(stop)
    finally:
        view = progress()
        if view is not None:
            await view.close()
        for sig in handled:
            loop.remove_signal_handler(sig)


async def _run_here(
    scenario: Scenario,
    metrics: RunMetrics,
    indexes: range,
    factory: DeviceFactory,
    *,
    quiet: bool,
    interval: float | None,
    outputs: RunOutputs,
) -> Summary:
    """One shard in this process (``--workers 1``)."""
    clock = LoopClock(asyncio.get_running_loop())
    views: list[Progress] = []
    samplers: list[Sampler] = []

    def started(shard: Shard) -> None:
        if not quiet:
            view = Progress(shard, metrics, sys.stderr, clock=clock, interval=interval)
            view.start()
            views.append(view)
        if outputs.sampling is not None:
            sampler = Sampler(
                shard, metrics, outputs.record, clock=clock, interval=outputs.sampling
            )
            sampler.start()
            samplers.append(sampler)

    cut = asyncio.Event()

    async def work(stop: asyncio.Event) -> Summary:
        try:
            return await fleet.run(stop, on_started=started, cut=cut)
        finally:
            for sampler in samplers:
                await sampler.finish()

    fleet = Fleet(scenario, clock=clock, metrics=metrics, factory=factory, indexes=indexes)
    return await _with_signals(work, lambda: views[0] if views else None, cut.set)


async def _run_pool(pool: WorkerPool, *, quiet: bool, interval: float | None) -> Summary:
    """Several worker processes, one merged progress line."""
    clock = LoopClock(asyncio.get_running_loop())
    view: Progress | None = None
    if not quiet:
        source: Callable[[], Snapshot] = pool.snapshot
        view = Progress.of_source(source, sys.stderr, clock=clock, interval=interval)
        view.start()
    return await _with_signals(pool.run, lambda: view, pool.cut_short)


def _plan(
    scenario: Scenario,
    workers: int | None,
    shard_index: int | None,
    shard_count: int | None,
    addresses: tuple[str, ...],
) -> tuple[range, Capacity]:
    count = shard_count if shard_count is not None else 1
    index = shard_index if shard_index is not None else 0
    if shard_index is not None and shard_count is None:
        raise PlanningError(
            f"shard index {index} (--shard-index, FLEET_SHARD_INDEX or JOB_COMPLETION_INDEX) "
            "given without a shard count (--shard-count, FLEET_SHARD_COUNT)"
        )
    if shard_index is None and count > 1:
        raise PlanningError(
            f"shard count {count} given without this machine's shard index (--shard-index, "
            "FLEET_SHARD_INDEX or JOB_COMPLETION_INDEX): every machine would run slice 0"
        )
    indexes = machine_slice(scenario.device_count, index, count)
    host = resolve_blocking(parse_uri(scenario.server.uri))[0]
    capacity = plan_capacity(len(indexes), server_host=host, workers=workers, addresses=addresses)
    return indexes, capacity


def _split_addresses(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(part for value in values for part in value.replace(",", " ").split())


@click.command()
@click.argument("scenario_file", metavar="SCENARIO", type=click.Path(path_type=pathlib.Path))
@override_options
@objects_option
@click.option(
    "--summary-json",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    help="Also write the summary as JSON (schema_version 1) to PATH.",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    envvar="FLEET_METRICS_PORT",
    help="Serve Prometheus metrics on this port [FLEET_METRICS_PORT].",
)
@click.option(
    "--metrics-host",
    default="127.0.0.1",
    show_default=True,
    envvar="FLEET_METRICS_HOST",
    help="Address of the metrics server [FLEET_METRICS_HOST].",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    envvar="FLEET_WORKERS",
    metavar="N",
    help="Shard processes (default: one per core, more if the open-file limit needs it; "
    "1: in this process) [FLEET_WORKERS].",
)
@click.option(
    "--shard-index",
    type=click.IntRange(min=0),
    envvar=list(SHARD_INDEX_VARS),
    metavar="I",
    help="Run only slice I (0-based) of the fleet's devices "
    "[FLEET_SHARD_INDEX, else JOB_COMPLETION_INDEX].",
)
@click.option(
    "--shard-count",
    type=click.IntRange(min=1),
    envvar="FLEET_SHARD_COUNT",
    metavar="N",
    help="How many slices (machines) the fleet is split into [FLEET_SHARD_COUNT].",
)
@click.option(
    "--source-address",
    "source_addresses",
    multiple=True,
    envvar="FLEET_SOURCE_ADDRESSES",
    metavar="ADDR",
    help="Bind devices round-robin to these local addresses (repeatable) "
    "[FLEET_SOURCE_ADDRESSES, space separated]. Default: more loopback addresses "
    "when one address's ports do not suffice.",
)
@click.option("--quiet", "-q", is_flag=True, envvar="FLEET_QUIET", help="No progress output.")
@click.option(
    "--progress-interval",
    type=Duration(0, above=True),
    default=None,
    help="Time between progress updates: 2s, 500ms... (0.5 s on a terminal, 5 s otherwise).",
)
@click.option("--ascii", is_flag=True, help="ASCII marks in the summary (ok/FAIL).")
@click.option(
    "--any-source",
    is_flag=True,
    help="Devices answer requests from any address, not only their server's (test rigs; "
    "docs/security.md).",
)
@loop_option
@output_options
def run(
    scenario_file: pathlib.Path,
    server: str | None,
    devices: int | None,
    duration: str | None,
    seed: int | None,
    sets: tuple[str, ...],
    objects_dirs: tuple[pathlib.Path, ...],
    summary_json: pathlib.Path | None,
    metrics_port: int | None,
    metrics_host: str,
    workers: int | None,
    shard_index: int | None,
    shard_count: int | None,
    source_addresses: tuple[str, ...],
    quiet: bool,
    progress_interval: float | None,
    ascii: bool,
    any_source: bool,
    loop: str,
    outputs: RunOutputs,
) -> None:
    """Run the fleet of SCENARIO (a file, or - for stdin) against its server and print
    the summary.

    Flags override the file and FLEET_* variables (flags > environment > file).
    Exit status: 0 ok, 1 run failed (or the fleet does not fit this machine),
    2 invalid scenario, 99 a threshold failed, 130 aborted (Ctrl-C; every
    device de-registers first).
    """
    settings = run_settings(
        os.environ, server=server, devices=devices, duration=duration, seed=seed, sets=sets
    )
    try:
        scenario, source = load_run_scenario(
            scenario_file, settings=settings, objects_dirs=objects_dirs
        )
    except ScenarioErrors as exc:
        for line in exc.lines():
            click.echo(line, err=True)
        raise SystemExit(EXIT_INVALID_SCENARIO) from None
    missing = cannot_run(scenario)
    if missing:
        for reason in missing:
            click.echo(f"cannot run: {reason}", err=True)
        raise SystemExit(EXIT_ERROR)
    try:
        indexes, capacity = _plan(
            scenario, workers, shard_index, shard_count, _split_addresses(source_addresses)
        )
    except UnresolvedName as exc:
        click.echo(f"cannot run: {exc}", err=True)
        raise SystemExit(EXIT_ERROR) from None
    except (PlanningError, ConfigError) as exc:
        click.echo(f"invalid command line: {exc}", err=True)
        raise SystemExit(EXIT_INVALID_SCENARIO) from None
    except CapacityError as exc:
        click.echo(f"the fleet does not fit this machine: {exc}", err=True)
        raise SystemExit(EXIT_ERROR) from None
    if not quiet:
        logging.basicConfig(
            level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
        )
        if len(indexes) != scenario.device_count:
            click.echo(
                f"this machine runs devices {indexes.start}..{indexes.stop - 1} of "
                f"{scenario.device_count} (shard {shard_index or 0} of {shard_count})",
                err=True,
            )
    outputs.open()
    summary = None
    try:
        summary = _execute(
            scenario,
            source,
            indexes,
            capacity,
            metrics_port=metrics_port,
            metrics_host=metrics_host,
            quiet=quiet,
            interval=progress_interval,
            outputs=outputs,
            loop=loop,
            factory=AnySource() if any_source else fleet_device,
        )
        summary.scenario_path, summary.server_uri = str(scenario_file), scenario.server.uri
    finally:
        outputs.close(summary, scenario_text=source.text)
    click.echo(summary.table(ascii=ascii), nl=False)
    if summary_json is not None:
        summary_json.write_text(summary.dumps(), encoding="utf-8")
    if nothing_started(summary):
        click.echo("fleet run: no device could start (the reasons are logged above)", err=True)
    raise SystemExit(exit_status(summary))


def _execute(
    scenario: Scenario,
    source: ScenarioSource,
    indexes: range,
    capacity: Capacity,
    *,
    metrics_port: int | None,
    metrics_host: str,
    quiet: bool,
    interval: float | None,
    outputs: RunOutputs,
    loop: str = "auto",
    factory: DeviceFactory = fleet_device,
) -> Summary:
    metrics = RunMetrics()
    pool: WorkerPool | None = None
    if capacity.workers > 1:
        pool = WorkerPool(
            scenario,
            source,
            workers=capacity.workers,
            indexes=indexes,
            addresses=capacity.addresses,
            factory=factory,
            interval=outputs.sampling,
            on_interval=outputs.record,
            loop=loop,
            log_level=QUIET_LOG_LEVEL if quiet else logging.WARNING,  # -q: workers say nothing
        )
    exporter = None
    if metrics_port is not None:
        registry = metrics_registry(pool.metrics if pool is not None else metrics)
        try:
            exporter = serve(metrics_port, metrics_host, registry=registry)
        except OSError as exc:
            click.echo(f"cannot serve metrics on {metrics_host}:{metrics_port}: {exc}", err=True)
            raise SystemExit(EXIT_ERROR) from None
        if not quiet:
            click.echo(f"metrics at {exporter.url}", err=True)
    if not quiet and (capacity.workers > 1 or capacity.addresses):
        click.echo(capacity.describe(), err=True)
    try:
        if pool is not None:
            return loops.run(_run_pool(pool, quiet=quiet, interval=interval), loop)
        if capacity.addresses:
            factory = SourceAddresses(capacity.addresses, factory)
        return loops.run(
            _run_here(
                scenario, metrics, indexes, factory, quiet=quiet, interval=interval, outputs=outputs
            ),
            loop,
        )
    except (OSError, WorkerError) as exc:
        click.echo(f"run failed: {exc}", err=True)
        raise SystemExit(EXIT_ERROR) from None
    finally:
        if exporter is not None:
            exporter.close()


__all__ = ["SHARD_INDEX_VARS", "run"]
