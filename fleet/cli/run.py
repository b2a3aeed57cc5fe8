"""``fleet run SCENARIO``: run a fleet from a scenario file, print its summary.

Results (the summary table with the thresholds) go to stdout; progress and
logs to stderr. ``--summary-json PATH`` writes the summary as JSON (schema in
:mod:`fleet.metrics.summary`, ``schema_version`` 1). Exit status: 0 ok, 1 the
run could not be done, 2 invalid scenario, 99 a threshold failed, 130 aborted
by Ctrl-C or SIGTERM (every device de-registered first) — see
:mod:`fleet.runner.fleet`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import pathlib
import signal
import sys

import click

from fleet.cli.options import objects_option
from fleet.cli.scenario import EXIT_INVALID_SCENARIO, override_options
from fleet.clock import LoopClock
from fleet.metrics import RunMetrics, Summary
from fleet.metrics.prometheus import metrics_registry, serve
from fleet.runner.fleet import EXIT_ERROR, Fleet, exit_status
from fleet.runner.progress import Progress
from fleet.runner.shard import Shard
from fleet.scenario import Scenario, ScenarioErrors, load_scenario, run_settings


async def _run(
    scenario: Scenario, metrics: RunMetrics, *, quiet: bool, interval: float | None
) -> Summary:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    handled: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # pragma: no cover
            pass
    clock = LoopClock(loop)
    progress: list[Progress] = []

    def started(shard: Shard) -> None:
        if not quiet:
            view = Progress(shard, metrics, sys.stderr, clock=clock, interval=interval)
            view.start()
            progress.append(view)

    try:
        return await Fleet(scenario, clock=clock, metrics=metrics).run(stop, on_started=started)
    finally:
        for view in progress:
            await view.close()
        for sig in handled:
            loop.remove_signal_handler(sig)


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
    help="Address of the metrics server.",
)
@click.option("--quiet", "-q", is_flag=True, envvar="FLEET_QUIET", help="No progress output.")
@click.option(
    "--progress-interval",
    type=float,
    default=None,
    metavar="SECONDS",
    help="Seconds between progress updates (0.5 on a terminal, 5 otherwise).",
)
@click.option("--ascii", is_flag=True, help="ASCII marks in the summary (ok/FAIL).")
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
    quiet: bool,
    progress_interval: float | None,
    ascii: bool,
) -> None:
    """Run the fleet of SCENARIO against its server and print the summary.

    Flags override the file and FLEET_* variables (flags > environment > file).
    Exit status: 0 ok, 1 run failed, 2 invalid scenario, 99 a threshold failed,
    130 aborted (Ctrl-C; every device de-registers first).
    """
    settings = run_settings(
        os.environ, server=server, devices=devices, duration=duration, seed=seed, sets=sets
    )
    try:
        scenario = load_scenario(scenario_file, settings=settings, objects_dirs=objects_dirs)
    except ScenarioErrors as exc:
        for line in exc.lines():
            click.echo(line, err=True)
        raise SystemExit(EXIT_INVALID_SCENARIO) from None
    if not quiet:
        logging.basicConfig(
            level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
        )
    metrics = RunMetrics()
    exporter = None
    if metrics_port is not None:
        try:
            exporter = serve(metrics_port, metrics_host, registry=metrics_registry(metrics))
        except OSError as exc:
            click.echo(f"cannot serve metrics on {metrics_host}:{metrics_port}: {exc}", err=True)
            raise SystemExit(EXIT_ERROR) from None
        if not quiet:
            click.echo(f"metrics at {exporter.url}", err=True)
    try:
        summary = asyncio.run(_run(scenario, metrics, quiet=quiet, interval=progress_interval))
    except OSError as exc:
        click.echo(f"run failed: {exc}", err=True)
        raise SystemExit(EXIT_ERROR) from None
    finally:
        if exporter is not None:
            exporter.close()
    click.echo(summary.table(ascii=ascii), nl=False)
    if summary_json is not None:
        summary_json.write_text(json.dumps(summary.to_json(), indent=2) + "\n", encoding="utf-8")
    raise SystemExit(exit_status(summary))
