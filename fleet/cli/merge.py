"""``fleet merge SUMMARY.json...``: one summary of a fleet run in slices on several machines.

Each machine of ``fleet run --shard-index I --shard-count N`` writes its own
summary (``--summary-json``); this command merges them exactly
(:meth:`~fleet.metrics.Summary.merge_all`: counts and latency histograms add
up, never averages), prints the table and with ``--summary-json OUT`` writes
the merged JSON. With ``--scenario FILE`` the scenario's thresholds are
evaluated again on the merged numbers (the thresholds stored in the inputs
judged one slice each and are dropped), and a device total different from
the scenario's fleet size is reported (a machine's summary is missing or
given twice).

Time series: ``--series FILE`` (repeatable) names each machine's ``fleet run
--timeseries`` file; they are aligned on wall time and added up
(:func:`~fleet.metrics.series.merge_series`). ``--timeseries OUT`` writes the
merged series, ``--report OUT`` one HTML report of the whole fleet.

Exit status as ``fleet run``: 0 ok, 2 an input cannot be read (or an invalid
scenario), 99 a threshold failed on the merged numbers, 130 one of the runs
was aborted.
"""

from __future__ import annotations

import os
import pathlib

import click

from fleet.cli.inputs import read_series, read_summaries, write_report
from fleet.cli.options import objects_option
from fleet.cli.scenario import EXIT_INVALID_SCENARIO
from fleet.metrics import Summary
from fleet.metrics.timeseries import dumps_line
from fleet.runner.fleet import evaluate_thresholds, exit_status
from fleet.scenario import ScenarioErrors, load_scenario, run_settings


@click.command()
@click.argument(
    "files",
    nargs=-1,
    required=True,
    metavar="SUMMARY.json...",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
)
@click.option(
    "--summary-json",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    help="Write the merged summary as JSON to PATH.",
)
@click.option(
    "--scenario",
    "scenario_file",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    help="Evaluate this scenario's thresholds on the merged numbers (FLEET_* overrides apply).",
)
@objects_option
@click.option(
    "--series",
    "series_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    help="A machine's time series (fleet run --timeseries); repeat for each machine.",
)
@click.option(
    "--timeseries",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    help="Write the merged time series as JSON lines to FILE.",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    help="Write one HTML report of the merged run to FILE.",
)
@click.option("--ascii", is_flag=True, help="ASCII marks in the summary (ok/FAIL).")
def merge(
    files: tuple[pathlib.Path, ...],
    summary_json: pathlib.Path | None,
    scenario_file: pathlib.Path | None,
    objects_dirs: tuple[pathlib.Path, ...],
    series_files: tuple[pathlib.Path, ...],
    timeseries: pathlib.Path | None,
    report_file: pathlib.Path | None,
    ascii: bool,
) -> None:
    """Merge the summaries of one fleet run in slices (fleet run --shard-index/--shard-count).

    Exit status: 0 ok, 2 unreadable input or invalid scenario, 99 a threshold
    failed on the merged numbers, 130 one of the runs was aborted.
    """
    summaries = read_summaries(files)
    records = read_series(series_files)
    merged = Summary.merge_all(summaries)
    seeds = {s.seed for s in summaries}
    if len(seeds) > 1:
        click.echo(
            "warning: the summaries come from runs with different seeds "
            f"({', '.join(str(s) for s in sorted(seeds, key=str))})",
            err=True,
        )
    if scenario_file is not None:
        try:
            scenario = load_scenario(
                scenario_file, settings=run_settings(os.environ), objects_dirs=objects_dirs
            )
        except ScenarioErrors as exc:
            for line in exc.lines():
                click.echo(line, err=True)
            raise SystemExit(EXIT_INVALID_SCENARIO) from None
        if merged.devices != scenario.device_count:
            click.echo(
                f"warning: the summaries cover {merged.devices} devices, the scenario has "
                f"{scenario.device_count} (a machine's summary missing or given twice?)",
                err=True,
            )
        merged.thresholds = evaluate_thresholds(merged, scenario.thresholds)
    click.echo(merged.table(ascii=ascii), nl=False)
    if summary_json is not None:
        summary_json.write_text(merged.dumps(), encoding="utf-8")
    if timeseries is not None:
        timeseries.write_text("".join(dumps_line(r) for r in records), encoding="utf-8")
    if report_file is not None:
        write_report(report_file, merged, records, scenario_file)
    raise SystemExit(exit_status(merged))
