"""Reading what runs left behind (summaries, time series) and writing the report from them.

Shared by ``fleet merge`` and ``fleet report``: every unreadable input is one
line on stderr (file, line, what is wrong) and exit status 2.
"""

from __future__ import annotations

import pathlib
from collections.abc import Sequence

import click

from fleet.cli.scenario import EXIT_INVALID_SCENARIO
from fleet.metrics import Summary, SummaryError
from fleet.metrics.series import merge_series
from fleet.metrics.timeseries import Interval, SeriesError, read_lines
from fleet.report.html import render_report


def read_summaries(paths: tuple[pathlib.Path, ...]) -> list[Summary]:
    """Every summary file, or exit status 2 with one line per unreadable file."""
    summaries: list[Summary] = []
    problems: list[str] = []
    for path in paths:
        try:
            summaries.append(Summary.loads(path.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: cannot read the file: {exc}")
        except SummaryError as exc:
            problems.append(f"{path}: {exc}")
    if problems:
        for line in problems:
            click.echo(line, err=True)
        raise SystemExit(EXIT_INVALID_SCENARIO)
    return summaries


def read_series(paths: Sequence[pathlib.Path]) -> list[Interval]:
    """The records of every file merged into one series, or exit status 2 with the reasons."""
    runs: list[list[Interval]] = []
    problems: list[str] = []
    for path in paths:
        try:
            with path.open(encoding="utf-8") as lines:
                runs.append(list(read_lines(lines, file=str(path))))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{path}: cannot read the file: {exc}")
        except SeriesError as exc:
            problems.append(str(exc))
    if not problems:
        try:
            return merge_series(runs)
        except SeriesError as exc:
            problems.append(f"{', '.join(map(str, paths))}: {exc}")
    for line in problems:
        click.echo(line, err=True)
    raise SystemExit(EXIT_INVALID_SCENARIO)


def scenario_text(summary: Summary, scenario_file: pathlib.Path | None) -> str:
    """The scenario to show: the given file, else the summary's own when readable."""
    candidates = [scenario_file] if scenario_file is not None else []
    if scenario_file is None and summary.scenario_path and " + " not in summary.scenario_path:
        candidates.append(pathlib.Path(summary.scenario_path))
    for path in candidates:
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            if scenario_file is not None:
                click.echo(f"{path}: cannot read the scenario: {exc}", err=True)
                raise SystemExit(EXIT_INVALID_SCENARIO) from None
    return ""


def write_report(
    target: pathlib.Path,
    summary: Summary,
    records: Sequence[Interval],
    scenario_file: pathlib.Path | None = None,
) -> None:
    text = render_report(summary, records, scenario_text=scenario_text(summary, scenario_file))
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        click.echo(f"cannot write {target}: {exc}", err=True)
        raise SystemExit(EXIT_INVALID_SCENARIO) from None
