"""``fleet merge`` of two machine slices, each with its time series: one report, one series."""

from __future__ import annotations

import json
import pathlib

import pytest
from click.testing import CliRunner

from fleet.cli.merge import merge
from fleet.cli.run import run
from fleet.server import Lwm2mServer

from .test_outputs import SCENARIO
from .test_run import write


@pytest.mark.slow
def test_two_slices_merge_into_one_series_and_one_report(
    tmp_path: pathlib.Path, server: Lwm2mServer
) -> None:
    path = write(tmp_path, SCENARIO.replace('  register_duration: ["p(95)<0.0001ms"]\n', ""))
    summaries, series = [], []
    for index in range(2):
        summary, timeseries = tmp_path / f"s{index}.json", tmp_path / f"t{index}.jsonl"
        result = CliRunner().invoke(
            run,
            [
                *(str(path), "--server", server.uri, "--workers", "1", "--quiet"),
                *("--shard-index", str(index), "--shard-count", "2", "--interval", "0.5"),
                *("--summary-json", str(summary), "--timeseries", str(timeseries)),
            ],
        )
        assert result.exit_code == 0, result.output
        summaries.append(str(summary))
        series += ["--series", str(timeseries)]
    page, merged_series = tmp_path / "fleet.html", tmp_path / "fleet.jsonl"
    result = CliRunner().invoke(
        merge,
        [
            *(*summaries, *series, "--scenario", str(path), "--report", str(page)),
            *("--timeseries", str(merged_series)),
        ],
    )
    assert result.exit_code == 0, result.output

    slices = [
        [json.loads(line) for line in (tmp_path / f"t{i}.jsonl").read_text().splitlines()]
        for i in range(2)
    ]
    records = [json.loads(line) for line in merged_series.read_text().splitlines()]
    assert [r["index"] for r in records] == sorted({r["index"] for r in records})
    for name in ("register", "deregister"):
        per_slice = [sum(r["operations"].get(name, {}).get("count", 0) for r in s) for s in slices]
        assert per_slice == [8, 8]
        assert sum(r["operations"].get(name, {}).get("count", 0) for r in records) == 16
    # the slices ran one after the other: the merged series spans both, on wall time
    first_wall = min(s[0]["wall"] for s in slices)
    assert records[0]["wall"] == pytest.approx(first_wall)
    assert records[-1]["wall"] >= max(s[-1]["wall"] for s in slices) - 0.5
    text = page.read_text()
    assert "16 in 2 shard(s)" in text and 'class="verdict passed"' in text
    assert text.count('class="chart"') >= 4
