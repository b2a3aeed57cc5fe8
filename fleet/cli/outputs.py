"""What ``fleet run`` writes besides its summary: time series, CSV, HTML report, JUnit XML.

:func:`output_options` adds the options to a click command and hands the
command one :class:`RunOutputs` instead of five values:

- ``--interval SECONDS`` (default 1): the time series' step;
- ``--timeseries FILE``: the records as JSON lines, one written at each interval
  (:mod:`fleet.metrics.timeseries`);
- ``--csv PREFIX``: ``PREFIX_operations.csv`` and ``PREFIX_run.csv`` at the end
  (:mod:`fleet.report.csv`);
- ``--report FILE``: the self-contained HTML report (:mod:`fleet.report.html`);
- ``--junit FILE``: the thresholds as JUnit test cases (:mod:`fleet.report.junit`).

The time series is sampled only when one of the three files needs it. Every
file is opened or checked before the run starts, so a bad path fails fast
(exit status 2) instead of after an hour of load.
"""

from __future__ import annotations

import functools
import pathlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

import click

from fleet.cli.durations import Duration
from fleet.metrics import Summary
from fleet.metrics.timeseries import DEFAULT_INTERVAL, Interval, dumps_line

EXIT_BAD_OUTPUT = 2


@dataclass
class RunOutputs:
    """The extra files of one run and the time series records collected for them."""

    interval: float = DEFAULT_INTERVAL
    timeseries: pathlib.Path | None = None
    csv_prefix: str | None = None
    report: pathlib.Path | None = None
    junit: pathlib.Path | None = None
    records: list[Interval] = field(default_factory=list)
    _stream: TextIO | None = None

    @property
    def sampling(self) -> float | None:
        """The time series interval when a file needs the series, else ``None``."""
        wanted = self.timeseries or self.csv_prefix or self.report
        return self.interval if wanted else None

    def open(self) -> None:
        """Open the JSON lines file and check the others can be written (exit 2 if not)."""
        targets = [self.report, self.junit]
        if self.csv_prefix is not None:
            targets.append(pathlib.Path(f"{self.csv_prefix}_run.csv"))
        for target in targets:
            if target is not None and not target.absolute().parent.is_dir():
                _fail(f"cannot write {target}: no directory {target.absolute().parent}")
        if self.timeseries is not None:
            try:
                self._stream = self.timeseries.open("w", encoding="utf-8")
            except OSError as exc:
                _fail(f"cannot write {self.timeseries}: {exc}")

    def record(self, interval: Interval) -> None:
        """One more record: kept, and written to the JSON lines file at once."""
        self.records.append(interval)
        if self._stream is not None:
            self._stream.write(dumps_line(interval))
            self._stream.flush()

    def close(self, summary: Summary | None, *, scenario_text: str = "") -> None:
        """Close the series file; with the run's summary write CSV, report and JUnit."""
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        if summary is None:
            return
        if self.csv_prefix is not None:
            from fleet.report.csv import write_csv

            write_csv(self.csv_prefix, self.records)
        if self.report is not None:
            from fleet.report.html import render_report

            self.report.write_text(
                render_report(summary, self.records, scenario_text=scenario_text),
                encoding="utf-8",
            )
        if self.junit is not None:
            from fleet.report.junit import junit_xml

            self.junit.write_text(junit_xml(summary), encoding="utf-8")


def _fail(message: str) -> None:
    click.echo(f"invalid command line: {message}", err=True)
    raise SystemExit(EXIT_BAD_OUTPUT)


_FILE = click.Path(dir_okay=False, path_type=pathlib.Path)
_OPTIONS = (
    click.option(
        "--interval",
        type=Duration(0.01),
        default=DEFAULT_INTERVAL,
        show_default=True,
        help="Time between time series records (--timeseries, --csv, --report): 1s, 10s...",
    ),
    click.option(
        "--timeseries",
        type=_FILE,
        help="Write the time series as JSON lines to FILE while running.",
    ),
    click.option(
        "--csv",
        "csv_prefix",
        metavar="PREFIX",
        help="Write the time series to PREFIX_operations.csv and PREFIX_run.csv.",
    ),
    click.option("--report", type=_FILE, help="Write a self-contained HTML report to FILE."),
    click.option("--junit", type=_FILE, help="Write the thresholds as JUnit XML to FILE."),
)


def output_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add the output options; the command receives ``outputs: RunOutputs``.

    Put it right above the function (below every other click decorator).
    """

    @functools.wraps(command)
    def wrapper(
        *args: Any,
        interval: float,
        timeseries: pathlib.Path | None,
        csv_prefix: str | None,
        report: pathlib.Path | None,
        junit: pathlib.Path | None,
        **kwargs: Any,
    ) -> Any:
        outputs = RunOutputs(interval, timeseries, csv_prefix, report, junit)
        return command(*args, outputs=outputs, **kwargs)

    decorated: Callable[..., Any] = wrapper
    for option in reversed(_OPTIONS):
        decorated = option(decorated)
    return decorated
