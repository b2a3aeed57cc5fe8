"""``fleet report SUMMARY.json [TIMESERIES...] -o report.html``: the HTML report of a finished run.

The summary is one ``--summary-json`` file (of ``fleet run`` or ``fleet merge``);
the time series files are ``--timeseries`` JSON lines (several: the slices of
one fleet on several machines, aligned on wall time and added up). The
scenario shown is ``--scenario FILE``, else the file named in the summary's
``scenario_path`` when it is still there. Exit status 0, or 2 when an input
cannot be read (one line per problem, with file and line).
"""

from __future__ import annotations

import pathlib

import click

from fleet.cli.inputs import read_series, read_summaries, write_report


@click.command()
@click.argument("summary_file", metavar="SUMMARY.json", type=click.Path(path_type=pathlib.Path))
@click.argument(
    "series_files", metavar="[TIMESERIES...]", nargs=-1, type=click.Path(path_type=pathlib.Path)
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    help="The HTML file to write.",
)
@click.option(
    "--scenario",
    "scenario_file",
    type=click.Path(dir_okay=False, path_type=pathlib.Path),
    help="Show this scenario (default: the summary's scenario_path, when it exists).",
)
def report(
    summary_file: pathlib.Path,
    series_files: tuple[pathlib.Path, ...],
    output: pathlib.Path,
    scenario_file: pathlib.Path | None,
) -> None:
    """Write the self-contained HTML report of a run from its summary and time series."""
    summary = read_summaries((summary_file,))[0]
    records = read_series(series_files)
    write_report(output, summary, records, scenario_file)
    click.echo(f"report written to {output}", err=True)
