"""``fleet run --timeseries/--csv/--junit/--report`` and ``fleet report``, against a real server."""

from __future__ import annotations

import csv
import json
import pathlib
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from fleet.cli.report import report
from fleet.cli.run import run
from fleet.server import Lwm2mServer

from .test_run import write

SCENARIO = """
version: 1
server: coap://127.0.0.1:1
seed: 4
duration: 2s
groups:
  - count: 16
    endpoint: "out-{index:03d}"
    objects:
      3303: [0]
phases:
  - {duration: 1s, arrivalCount: 16}
thresholds:
  register_failed: ["rate==0"]
  register_duration: ["p(95)<0.0001ms"]
  send_duration: [{threshold: "p(95)<1s", allow_empty: true}]
"""


def test_an_unwritable_output_fails_before_the_run(tmp_path: pathlib.Path) -> None:
    path = write(tmp_path, SCENARIO)
    missing = tmp_path / "no" / "such" / "dir"
    for option, value in (("--report", missing / "r.html"), ("--csv", str(missing / "p"))):
        result = CliRunner().invoke(run, [str(path), "--quiet", option, str(value)])
        assert result.exit_code == 2, result.output
        assert "no directory" in result.output and str(missing) in result.output


@pytest.mark.slow
def test_run_writes_series_csv_junit_and_report(
    tmp_path: pathlib.Path, server: Lwm2mServer
) -> None:
    path = write(tmp_path, SCENARIO)
    files = {
        "--timeseries": tmp_path / "run.jsonl",
        "--csv": tmp_path / "run",
        "--junit": tmp_path / "junit.xml",
        "--report": tmp_path / "report.html",
        "--summary-json": tmp_path / "summary.json",
    }
    args = [str(path), "--server", server.uri, "--workers", "1", "--quiet", "--interval", "0.5"]
    for option, target in files.items():
        args += [option, str(target)]
    result = CliRunner().invoke(run, args)
    assert result.exit_code == 99, result.output  # register_duration p(95)<0.0001ms fails

    summary = json.loads(files["--summary-json"].read_text())
    assert summary["verdict"] == "failed"
    assert summary["server_uri"] == server.uri and summary["scenario_path"] == str(path)
    assert summary["tool_version"] and summary["ended"] == summary["started"] + summary["duration"]

    lines = files["--timeseries"].read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["index"] for r in records] == list(range(len(records)))
    assert 4 <= len(records) <= 6  # 2 s at 0.5 s, then the end
    for name in ("register", "deregister"):
        got = sum(r["operations"].get(name, {}).get("count", 0) for r in records)
        assert got == summary["operations"][name]["count"] == 16
    assert records[-1]["devices"] == {"stopped": 16}

    with open(tmp_path / "run_operations.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sum(int(r["count"]) for r in rows if r["operation"] == "register") == 16
    assert {r["operation"] for r in rows} >= {"register", "deregister"}
    with open(tmp_path / "run_run.csv", newline="") as handle:
        run_rows = list(csv.DictReader(handle))
    assert len(run_rows) == len(records)
    assert run_rows[-1]["devices_stopped"] == "16"

    suite = ET.parse(files["--junit"]).getroot().find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures"), suite.get("skipped")) == ("3", "1", "1")
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["register_duration p(95)<0.0001ms"].find("failure") is not None
    assert cases["register_failed rate==0"].find("failure") is None
    assert cases["send_duration p(95)<1s"].find("skipped") is not None  # no send: allowed

    page = files["--report"].read_text()
    assert 'class="verdict failed"' in page and "out-{index:03d}" in page  # the scenario text
    assert page.count('class="chart"') >= 4

    # fleet report from the files gives the same page
    again = tmp_path / "again.html"
    result = CliRunner().invoke(
        report, [str(files["--summary-json"]), str(files["--timeseries"]), "-o", str(again)]
    )
    assert result.exit_code == 0, result.output
    assert again.read_text() == page


def test_report_names_the_bad_line_of_a_series(tmp_path: pathlib.Path) -> None:
    summary = tmp_path / "s.json"
    summary.write_text(json.dumps({"schema_version": 1, "operations": {}, "lateness": _empty()}))
    series = tmp_path / "t.jsonl"
    series.write_text("\n{not json\n")
    result = CliRunner().invoke(report, [str(summary), str(series), "-o", str(tmp_path / "r")])
    assert result.exit_code == 2
    assert f"{series}:2: not JSON" in result.output


def _empty() -> dict[str, object]:
    return {"count": 0, "sum_ns": 0, "sub_bucket_bits": 7, "buckets": []}


def test_a_threshold_without_data_fails_the_run_unless_allowed(
    tmp_path: pathlib.Path, server: Lwm2mServer
) -> None:
    strict = SCENARIO.replace('  register_duration: ["p(95)<0.0001ms"]\n', "").replace(
        '[{threshold: "p(95)<1s", allow_empty: true}]', '["p(95)<1s"]'
    )
    path = write(tmp_path, strict)
    out = tmp_path / "summary.json"
    args = [str(path), "--server", server.uri, "--workers", "1", "--quiet"]
    result = CliRunner().invoke(run, [*args, "--summary-json", str(out)])
    assert result.exit_code == 99, result.output  # no Send in the run: no data
    assert "✗ send_duration    p(95)<1s  no data" in result.output
    line = json.loads(out.read_text())["thresholds"][1]
    assert line == {
        "metric": "send_duration",
        "expression": "p(95)<1s",
        "observed": None,
        "status": "failed",
    }
